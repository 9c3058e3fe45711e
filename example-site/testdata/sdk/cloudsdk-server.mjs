// The Cloud SDK's Node server API (@sitecore-cloudsdk/core/server, personalize/server and
// events/server 0.6.1: CloudSDK(req, res, ...).addEvents().addPersonalize().initialize(),
// personalize, pageView, identity, event) run with node by the Edge request parity test
// (example-site/interop_edge_test.go), its sitecoreEdgeUrl the test's recording server.
//
// It reads a scenario as JSON on standard input and plays it as a Node site using the Cloud
// SDK on the server would, page after page, with a node:http IncomingMessage and
// ServerResponse for each (the request types the SDK's isHttpRequest and isHttpResponse take,
// as an http or Express server hands them over): the visitor's cookies (those of the
// scenario, then those the pages set, as a browser keeps them), User-Agent and Referer. For
// each page: the SDK's initializer with enableServerCookie and enablePersonalizeCookie (which
// sets sc_cid and sc_cid_personalize, getting the guest ref from show.json when the visitor
// has none), then the page's flow (personalize), its page view (pageView) and, when the page
// has them, an IDENTITY event (identity) and a custom event (event). It writes
// {"versions": {...}, "pages": [{"setCookie": [...], "flow": ...}]} to standard output. The
// requests themselves are what the test compares, as the recorder received them. Before each
// page it tells the recorder which page it plays (GET {edgeURL}/__parity/page?key=...), so
// that requests without a page of their own (show.json) are named after the page.
//
// The inputs are what a Node head gives the SDK: the flow as the Content SDK's personalize
// middleware calls it (packages/nextjs/src/middleware/personalize-middleware.ts: channel,
// currency, friendlyId, language, pageVariantIds, and params from getExperienceParams: the
// Referer as params.referrer and the four UTM parameters it reads as params.utm); the events
// the page name as the SDK's browser build infers it (core's pageName: the path's last
// segment, "Home Page" for "/") and the referrer only on the visit's first page and only when
// it names another host (events' page-view-event.ts, getReferrer), as the server infers
// neither.
import { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';

// The packages' CommonJS builds: their ES module builds import paths without extensions, for
// bundlers, which node's ESM loader does not resolve. All three through require, so that
// they share one core (its settings and enabled packages).
const require = createRequire(import.meta.url);
const { CloudSDK } = require('@sitecore-cloudsdk/core/server');
const { PACKAGE_VERSION: eventsVersion, event, identity, pageView } = require('@sitecore-cloudsdk/events/server');
const { PACKAGE_VERSION: personalizeVersion, personalize } = require('@sitecore-cloudsdk/personalize/server');

const input = JSON.parse(await new Promise((resolve, reject) => {
  let s = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => { s += d; });
  process.stdin.on('end', () => resolve(s));
  process.stdin.on('error', reject);
}));

function pageName(url) {
  const { pathname } = new URL(url, 'https://localhost');
  return pathname === '/' ? 'Home Page' : pathname.split('/').pop();
}

function externalReferrer(referer, host, first) {
  if (!referer || !first) return undefined;
  try {
    return new URL(referer).hostname !== new URL(`https://${host}`).hostname ? referer : undefined;
  } catch {
    return undefined;
  }
}

// experienceParams is the Content SDK middleware's getExperienceParams.
function experienceParams(url, referer) {
  const q = new URL(url, 'https://localhost').searchParams;
  return {
    referrer: referer,
    utm: {
      campaign: q.get('utm_campaign') || undefined,
      content: q.get('utm_content') || undefined,
      medium: q.get('utm_medium') || undefined,
      source: q.get('utm_source') || undefined,
    },
  };
}

// The visitor's cookies, as a browser keeps them: a Set-Cookie with Max-Age=0 deletes one.
const jar = new Map(Object.entries(input.cookies));
function keep(setCookie) {
  for (const line of setCookie) {
    const [pair, ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    if (attrs.some((a) => a.toLowerCase() === 'max-age=0')) jar.delete(name);
    else jar.set(name, pair.slice(eq + 1));
  }
}

const base = { channel: input.channel, currency: input.currency, language: input.language };
const out = { versions: { events: eventsVersion, personalize: personalizeVersion }, pages: [] };
let first = true;
for (const p of input.pages) {
  await fetch(`${input.edgeURL}/__parity/page?key=${encodeURIComponent(p.key)}`);
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = p.url;
  req.headers = {
    host: input.host,
    'user-agent': input.userAgent,
    cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
  };
  if (p.referer) req.headers.referer = p.referer;
  const res = new ServerResponse(req);

  await CloudSDK(req, res, {
    sitecoreEdgeContextId: input.contextId,
    siteName: input.siteName,
    sitecoreEdgeUrl: input.edgeURL,
    enableServerCookie: true,
  })
    .addEvents()
    .addPersonalize({ enablePersonalizeCookie: true })
    .initialize();

  const page = {};
  if (p.friendlyId) {
    page.flow = await personalize(req, {
      ...base,
      friendlyId: p.friendlyId,
      params: experienceParams(p.url, p.referer),
      ...(p.variants ? { pageVariantIds: p.variants } : {}),
    });
  }
  const name = pageName(p.url);
  page.view = await pageView(req, {
    ...base,
    page: name,
    referrer: externalReferrer(p.referer, input.host, first),
    ...(p.pageVariant ? { pageVariantId: p.pageVariant } : {}),
  });
  if (p.identity) page.identity = await identity(req, { ...base, page: name, ...p.identity });
  if (p.event) page.event = await event(req, { ...base, page: name, ...p.event });

  const sc = res.getHeader('set-cookie');
  page.setCookie = sc === undefined ? [] : [].concat(sc);
  keep(page.setCookie);
  out.pages.push(page);
  first = false;
}
process.stdout.write(JSON.stringify(out));
