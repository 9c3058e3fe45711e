// The Engage browser SDK (@sitecore/engage, its ESM build served from node_modules on the
// page's own origin) in a page of the interop tests (example-site/interop_engage_test.go).
// The page says what to do in data attributes of <body>:
//
//	data-client-key     the tenant's client key (the sandbox's)
//	data-point-of-sale  the point of sale
//	data-friendly-id    a flow to run with engage.personalize (none: no flow)
//
// targetURL is the page's own origin, where the test mounts the sandbox. Engage reuses a
// bid_<clientKey> cookie that is there, and otherwise creates the browser with
// GET /v1.2/browser/create.json and sets the cookie (SameSite=None; Secure).
//
// The outcome is window.__interop, which the test polls for: {ok: true, browserId, view,
// flow} or {ok: false, error}.
import { init } from '/sdk/@sitecore/engage/esm/src/index.mjs';

const cfg = document.body.dataset;

async function run() {
  const engage = await init({
    clientKey: cfg.clientKey,
    targetURL: window.location.origin,
    pointOfSale: cfg.pointOfSale,
    // No cookieDomain: a host-only cookie, as the library sets it by default.
  });
  // channel and currency are required by Engage; language is inferred from <html lang>
  // ("EN") and the page name from the path.
  const view = await engage.pageView({ channel: 'WEB', currency: 'EUR' });
  let flow = null;
  if (cfg.friendlyId) {
    flow = await engage.personalize({ channel: 'WEB', currency: 'EUR', friendlyId: cfg.friendlyId });
  }
  return { ok: true, browserId: engage.getBrowserId(), version: engage.version, view, flow };
}

run().then(
  (result) => { window.__interop = result; },
  (err) => { window.__interop = { ok: false, error: String(err && err.stack || err) }; },
);
