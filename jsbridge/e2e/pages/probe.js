// Runs as the parser reaches it, after the pre-paint snippet and before any
// module script: records what the slots hold then, and when.
window.probe = {
  at: performance.now(),
  paintsSoFar: performance.getEntriesByType('paint').map((e) => e.name),
  sdkLoaded: document.documentElement.hasAttribute('data-edgewise'),
  related: { state: document.querySelector('#related').getAttribute('data-edgewise-state'), items: [...document.querySelectorAll('#related li.pick')].map((li) => li.getAttribute('data-edgewise-item-id')) },
  home: [...document.querySelectorAll('#home li.pick')].map((li) => [li.getAttribute('data-edgewise-item-id'), li.className]),
  panHref: (document.querySelector('#related li[data-edgewise-item-id="pan"] a') || { getAttribute: () => 'no pan' }).getAttribute('href'),
};
