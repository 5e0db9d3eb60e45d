// Product art: one small inline SVG per product, drawn from shapes below and
// built with DOM calls (no markup strings, no image downloads). The server
// names the drawing in /catalogue.json (`art`, chosen from the product's id
// and tags in demo/shop.go); `swatch` colours the product, and its first
// known tag picks the card's tint.

const SVG = 'http://www.w3.org/2000/svg';

// Shapes: ['p', d] a filled path, ['w', d] a white highlight, ['s', d, width]
// a stroked path, ['sw', d, width] a white stroke, ['c', cx, cy, r] a filled
// circle, ['o', cx, cy, r, width] a ring.
const DRAWINGS = {
  shoe: [['p', 'M6 42c0-6 4-10 9-10h9l7-9c2-2 5-2 7 0l5 6c4 4 10 6 13 10v5H6z'], ['p', 'M6 45h52v5H6z', 0.55], ['sw', 'M27 31l4 3M31 27l4 3M35 24l3 3', 2]],
  boot: [['p', 'M16 10h18v24c6 2 16 4 20 9v4H14z'], ['p', 'M14 47h40v6H14z', 0.55], ['sw', 'M22 16h8M22 22h8M22 28h8', 2.5]],
  vest: [['p', 'M21 8h6c1 7 9 7 10 0h6l6 12v36H15V20z'], ['w', 'M20 34h9v10h-9zM35 34h9v10h-9z'], ['sw', 'M32 16v40', 2]],
  jacket: [['p', 'M23 8h18l14 11-4 15-5-2v24H18V32l-5 2-4-15z'], ['sw', 'M32 12v44', 2], ['sw', 'M26 8l6 8 6-8', 2]],
  parka: [['p', 'M22 6h20l14 13-4 16-5-2v25H17V33l-5 2-4-16z'], ['sw', 'M17 24h30M17 34h30M17 44h30', 2], ['sw', 'M32 10v48', 2]],
  hoodie: [['p', 'M24 12c1-8 15-8 16 0l14 9-4 15-5-2v22H19V34l-5 2-4-15z'], ['w', 'M25 40h14v8H25z'], ['sw', 'M28 13c2 4 6 4 8 0', 2]],
  pants: [['p', 'M18 6h28l4 52H38l-6-30-6 30H14z'], ['sw', 'M18 12h28', 2.5]],
  pack: [['p', 'M19 16c0-7 5-10 13-10s13 3 13 10v38c0 3-2 4-4 4H23c-2 0-4-1-4-4z'], ['w', 'M24 36h16v12H24z'], ['sw', 'M19 24h26', 2]],
  poles: [['s', 'M25 10 19 58M39 10l6 48', 3.5], ['p', 'M22 6h6v12h-6zM36 6h6v12h-6z']],
  hat: [['p', 'M4 42c0-4 12-6 28-6s28 2 28 6-12 6-28 6S4 46 4 42z'], ['p', 'M17 38c0-13 6-20 15-20s15 7 15 20z'], ['sw', 'M17 34h30', 3]],
  sunglasses: [['p', 'M8 26h20v8c0 6-4 10-10 10s-10-4-10-10zM36 26h20v8c0 6-4 10-10 10s-10-4-10-10z'], ['s', 'M28 29c2-2 6-2 8 0M8 27 4 22M56 27l4-5', 3], ['w', 'M12 30h6v4h-6zM40 30h6v4h-6z']],
  'sleeping-bag': [['p', 'M20 8h24c5 0 8 3 8 8v34c0 5-4 8-9 8H21c-5 0-9-3-9-8V16c0-5 3-8 8-8z'], ['c', 32, 20, 7, 'w'], ['sw', 'M14 34h36M14 44h36', 2]],
  pad: [['p', 'M6 22h52v20H6z'], ['o', 14, 32, 8, 3], ['sw', 'M26 22v20M38 22v20M50 22v20', 2]],
  stove: [['p', 'M32 6c7 8 9 13 5 19-2-4-7-4-9 0-4-6-2-12 4-19z'], ['p', 'M14 30h36v14H14z'], ['s', 'M20 44l-4 12M44 44l4 12M32 44v12', 3]],
  headlamp: [['o', 32, 34, 20, 4], ['p', 'M22 24h20v18H22z'], ['c', 32, 33, 6, 'w']],
  lantern: [['s', 'M22 16c0-8 20-8 20 0', 3], ['p', 'M20 16h24v6H20zM20 50h24v6H20z'], ['p', 'M23 22h18v28H23z', 0.7], ['c', 32, 36, 6, 'w']],
  harness: [['o', 32, 32, 16, 6], ['s', 'M45 20 33 34', 4], ['p', 'M26 44h12v12H26z']],
  rope: [['o', 32, 32, 22, 4], ['o', 32, 32, 15, 4], ['o', 32, 32, 8, 4], ['s', 'M50 46l8 10', 4]],
  'chalk-bag': [['p', 'M18 18h28v30c0 6-5 10-14 10s-14-4-14-10z'], ['s', 'M6 20h52', 4], ['w', 'M22 24h20v4H22z']],
  axe: [['s', 'M24 58 38 10', 5], ['p', 'M24 10h28l-5 7H30zM24 10c-6 2-10 6-12 12 6-2 10-4 14-6z']],
  crampons: [['p', 'M12 24h40v10H12z'], ['p', 'M12 34l4 12 4-12zM24 34l4 12 4-12zM36 34l4 12 4-12zM46 34l4 12 4-12z'], ['s', 'M18 24c0-8 28-8 28 0', 3]],
  gloves: [['p', 'M20 58V30c0-4 5-4 5 0V16c0-5 6-5 6 0v-2c0-5 6-5 6 0v4c0-5 6-5 6 0v12l4-5c3-3 8 1 5 4l-8 12v17z'], ['sw', 'M20 50h23', 3]],
  skis: [['s', 'M16 58 30 6M34 58 48 6', 6], ['sw', 'M20 44l6-2M38 44l6-2', 2]],
  snowshoe: [['o', 32, 32, 14, 4], ['p', 'M30 10h4v44h-4z'], ['s', 'M20 28h24M20 36h24', 3]],
  bike: [['o', 16, 42, 11, 4], ['o', 48, 42, 11, 4], ['s', 'M16 42l10-18h16l6 18M26 24l6 18 10-18M24 18h8', 3.5], ['p', 'M27 26h14l-8 13z', 0.6]],
  board: [['p', 'M12 52C6 46 22 24 44 10c6-4 12 2 8 8C38 40 18 58 12 52z'], ['sw', 'M16 48 48 14', 2]],
  wetsuit: [['p', 'M24 6h16l4 8 8 6-4 20-4-2v20H37l-5-18-5 18h-7V38l-4 2-4-20 8-6z'], ['sw', 'M32 8v18', 2]],
  'dry-bag': [['p', 'M18 20h28v32c0 4-3 6-6 6H24c-3 0-6-2-6-6z'], ['p', 'M16 10h32v8H16z', 0.7], ['sw', 'M18 26h28', 2]],
  tent: [['p', 'M4 52 32 12l28 40z'], ['w', 'M32 22l9 30H23z'], ['s', 'M2 52h60', 3]],
  mountain: [['p', 'M4 54 24 18l10 16 8-10 18 30z'], ['w', 'M24 18l-5 9 5-3 4 4z']],
};

// The first of these tags a product carries picks its card's tint.
const ACCENT_TAGS = ['running', 'climbing', 'cycling', 'paddling', 'winter', 'snow', 'rain', 'sun', 'camping', 'hiking', 'trail', 'alpine'];

export function accentClass(item) {
  const tags = (item && item.tags) || [];
  const tag = ACCENT_TAGS.find((t) => tags.includes(t));
  return `accent-${tag || 'default'}`;
}

function svgEl(name, attrs) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function shape([kind, ...a]) {
  switch (kind) {
    case 'p': return svgEl('path', { d: a[0], fill: 'currentColor', ...(a[1] ? { opacity: a[1] } : {}) });
    case 'w': return svgEl('path', { d: a[0], fill: '#fff', opacity: 0.45 });
    case 's': return svgEl('path', { d: a[0], fill: 'none', stroke: 'currentColor', 'stroke-width': a[1], 'stroke-linecap': 'round', 'stroke-linejoin': 'round' });
    case 'sw': return svgEl('path', { d: a[0], fill: 'none', stroke: '#fff', 'stroke-width': a[1], 'stroke-linecap': 'round', opacity: 0.7 });
    case 'c': return svgEl('circle', { cx: a[0], cy: a[1], r: a[2], fill: a[3] === 'w' ? '#fff' : 'currentColor', ...(a[3] === 'w' ? { opacity: 0.5 } : {}) });
    case 'o': return svgEl('circle', { cx: a[0], cy: a[1], r: a[2], fill: 'none', stroke: 'currentColor', 'stroke-width': a[3] });
    default: throw new Error(`unknown shape ${kind}`);
  }
}

/**
 * Returns a <div class="art art-SIZE"> holding the product's drawing.
 * size is 'hero', 'lg' or 'sm'.
 */
export function productArt(item, size) {
  const wrap = document.createElement('div');
  wrap.className = `art art-${size}`;
  const svg = svgEl('svg', { viewBox: '0 0 64 64', 'aria-hidden': 'true', focusable: 'false' });
  if (item && item.swatch) svg.style.color = item.swatch;
  for (const s of DRAWINGS[item && item.art] || DRAWINGS.mountain) svg.append(shape(s));
  wrap.append(svg);
  return wrap;
}

export const drawingNames = Object.keys(DRAWINGS);
