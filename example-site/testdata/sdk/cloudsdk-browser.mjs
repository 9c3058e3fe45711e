// The Cloud SDK in the browser (@sitecore-cloudsdk/core/browser + events/browser), bundled by
// esbuild at test time (example-site/interop_test.go: bundleCloudSDK) and run in a page of
// the interop tests (interop_cloudsdk_test.go). The page says what to do in data attributes
// of <body>:
//
//	data-context-id  the Sitecore Edge context ID (sitecoreEdgeContextId)
//	data-site-name   the site name (siteName)
//
// sitecoreEdgeUrl is the page's own origin, where the test answers the Edge proxy's paths
// (/v1/events/v1.2/...). With enableBrowserCookie the SDK reuses an sc_cid cookie that is
// there, and otherwise creates the browser through the Edge proxy and sets the cookie.
//
// The outcome is window.__interop, which the test polls for: {ok: true, browserId, view} or
// {ok: false, error}.
import { CloudSDK, getBrowserId } from '@sitecore-cloudsdk/core/browser';
import { pageView } from '@sitecore-cloudsdk/events/browser';

const cfg = document.body.dataset;

async function run() {
  CloudSDK({
    sitecoreEdgeContextId: cfg.contextId,
    siteName: cfg.siteName,
    sitecoreEdgeUrl: window.location.origin,
    enableBrowserCookie: true,
  })
    .addEvents()
    .initialize();
  // channel and currency as a site sends them; language is inferred from <html lang> ("EN").
  const view = await pageView({ channel: 'WEB', currency: 'EUR' });
  return { ok: true, browserId: getBrowserId(), version: window.scCloudSDK.core.version, view };
}

run().then(
  (result) => { window.__interop = result; },
  (err) => { window.__interop = { ok: false, error: String(err && err.stack || err) }; },
);
