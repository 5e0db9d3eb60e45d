// Accessible tabs: [data-tab] buttons in a [role=tablist] switch the
// [data-pane] panels; arrow keys move between tabs.

export function setupTabs(root) {
  const tabs = [...root.querySelectorAll('[data-tab]')];
  const select = (tab, focus) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      root.querySelector(`[data-pane="${t.dataset.tab}"]`).hidden = !on;
    }
    if (focus) tab.focus();
  };
  for (const [i, tab] of tabs.entries()) {
    tab.addEventListener('click', () => select(tab, false));
    tab.addEventListener('keydown', (ev) => {
      const step = ev.key === 'ArrowRight' ? 1 : ev.key === 'ArrowLeft' ? -1 : 0;
      if (step) {
        ev.preventDefault();
        select(tabs[(i + step + tabs.length) % tabs.length], true);
      }
    });
  }
}
