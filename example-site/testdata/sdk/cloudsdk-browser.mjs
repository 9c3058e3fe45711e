// The Cloud SDK in the browser (@sitecore-cloudsdk/core/browser, events/browser and
// personalize/browser), bundled by esbuild at test time (example-site/interop_test.go:
// bundleCloudSDK) and run in a page of the interop tests (interop_cloudsdk_test.go). The page
// says what to do in data attributes of <body>:
//
//	data-context-id       the Sitecore Edge context ID (sitecoreEdgeContextId)
//	data-site-name        the site name (siteName)
//	data-friendly-id      the flow personalize runs
//	data-sdk-personalize  present: add the personalize package with its guest ref cookie
//	                      (enablePersonalizeCookie) and run the flow before the page view
//
// sitecoreEdgeUrl is the page's own origin, where the test mounts the sandbox's Sitecore Edge
// endpoints (/v1/personalize, /v1/events/v1.2/...). With enableBrowserCookie the SDK reuses
// an sc_cid cookie that is there, and otherwise creates the browser through the Edge proxy
// and sets the cookie; with enablePersonalizeCookie it reuses an sc_cid_personalize cookie,
// else sets it from the browser's creation (customer_ref) or, for a browser it did not
// create, from show.json (personalize's initializer/browser/createPersonalizeCookie.js).
//
// The outcome is window.__interop, which the test polls for: {ok: true, browserId, guestRef,
// version, personalizeVersion, flow, view} or {ok: false, error}.
import { CloudSDK, getBrowserId } from '@sitecore-cloudsdk/core/browser';
import { pageView } from '@sitecore-cloudsdk/events/browser';
import { personalize } from '@sitecore-cloudsdk/personalize/browser';

const cfg = document.body.dataset;

// cookie reads a cookie the page's scripts can read, as the SDK reads them.
function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return '';
}

async function run() {
  const withPersonalize = cfg.sdkPersonalize !== undefined;
  const sdk = CloudSDK({
    sitecoreEdgeContextId: cfg.contextId,
    siteName: cfg.siteName,
    sitecoreEdgeUrl: window.location.origin,
    enableBrowserCookie: true,
  }).addEvents();
  if (withPersonalize) sdk.addPersonalize({ enablePersonalizeCookie: true });
  sdk.initialize();
  const out = { ok: true, version: window.scCloudSDK.core.version };
  // channel and currency as a site sends them; language is inferred from <html lang> ("EN").
  if (withPersonalize) {
    out.flow = await personalize({ friendlyId: cfg.friendlyId, channel: 'WEB', currency: 'EUR' });
    out.personalizeVersion = window.scCloudSDK.personalize.version;
  }
  out.view = await pageView({ channel: 'WEB', currency: 'EUR' });
  out.browserId = getBrowserId();
  out.guestRef = cookie('sc_cid_personalize');
  return out;
}

run().then(
  (result) => { window.__interop = result; },
  (err) => { window.__interop = { ok: false, error: String(err && err.stack || err) }; },
);
