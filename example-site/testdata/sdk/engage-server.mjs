// Engage's server-side SDK (@sitecore/engage 1.4.3: initServer, handleCookie, personalize,
// pageView, identity) run with node by the request parity test
// (example-site/interop_parity_test.go), pointed at the test's recording server as the API.
//
// It reads a scenario as JSON on standard input and plays it as a Node site using Engage on
// the server would: for each page, a request with the visitor's cookie, User-Agent and
// Referer; handleCookie (forceServerCookieMode), then the page's flow (personalize), its
// page view (pageView) and, when the page has one, an IDENTITY event (identity). It writes
// {"pages": [{"setCookie": [...], "flow": ..., "view": ..., "identity": ...}]} to standard
// output. The requests themselves are what the test compares, as the recorder received them.
//
// Engage on the server infers nothing, so what its browser build would infer is passed in,
// as its browser build infers it (browser/initializer.mjs, infer/infer.mjs,
// events/page-view-event.mjs): the page name (the path's last segment, "Home Page" for "/"),
// the language as given (upper case, as Infer.language makes it), and the referrer only when
// it names another host. The visit's UTM parameters go into personalize's params as
// {utm: {...}} (keys lower-cased, prefix cut, as the Cloud SDK builds params.utm); Engage
// flattens them itself. pageView reads utm_* from request.url on its own.
import { initServer } from '@sitecore/engage';

const input = JSON.parse(await new Promise((resolve, reject) => {
  let s = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => { s += d; });
  process.stdin.on('end', () => resolve(s));
  process.stdin.on('error', reject);
}));

const engage = initServer({
  clientKey: input.clientKey,
  targetURL: input.targetURL,
  pointOfSale: input.pointOfSale,
  forceServerCookieMode: true,
});

function pageName(url) {
  const { pathname } = new URL(url, 'https://localhost');
  return pathname === '/' ? 'Home Page' : pathname.split('/').pop();
}

function utmOf(url) {
  const utm = {};
  new URL(url, 'https://localhost').searchParams.forEach((value, key) => {
    const k = key.toLowerCase();
    if (k.startsWith('utm_')) utm[k.slice(4)] = value;
  });
  return utm;
}

function externalReferrer(referer, host) {
  if (!referer) return undefined;
  try {
    return new URL(referer).hostname !== new URL(`https://${host}`).hostname ? referer : undefined;
  } catch {
    return undefined;
  }
}

const base = { channel: input.channel, currency: input.currency, language: input.language };
const out = { version: engage.version, pages: [] };
for (const p of input.pages) {
  const req = {
    url: p.url,
    headers: { host: input.host, cookie: input.cookie, 'user-agent': input.userAgent },
  };
  if (p.referer) req.headers.referer = p.referer;
  const setCookie = [];
  const res = { setHeader: (name, value) => { if (name.toLowerCase() === 'set-cookie') setCookie.push(value); } };
  await engage.handleCookie(req, res);
  const page = { setCookie };
  if (p.friendlyId) {
    const utm = utmOf(p.url);
    page.flow = await engage.personalize({
      ...base,
      friendlyId: p.friendlyId,
      ...(Object.keys(utm).length > 0 ? { params: { utm } } : {}),
    }, req);
  }
  page.view = await engage.pageView({
    ...base,
    page: pageName(p.url),
    referrer: externalReferrer(p.referer, input.host),
  }, req);
  if (p.identity) {
    page.identity = await engage.identity({ ...base, page: pageName(p.url), ...p.identity }, req);
  }
  out.pages.push(page);
}
process.stdout.write(JSON.stringify(out));
