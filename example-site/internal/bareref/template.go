package bareref

import (
	"html/template"
	"strings"
)

// styleURL is the stylesheet's URL as the example site emits it: the site serves its assets
// with a version query, "/static/<name>?v=<first 8 bytes of the file's SHA-256, hex>"
// (example-site/static.go, staticFiles.url("css/site.css")). Copied here so the reference
// sends the very same page; example-site/bareref_same_page_test.go fails when it drifts
// (e.g. after an edit of example-site/static/css/site.css).
const styleURL = "/static/css/site.css?v=69d6afe9d0151b91"

// homeDescription is the home page's meta description (example-site/handlers.go, home).
const homeDescription = "Direct flights from Amsterdam to 60 European cities, cabin bag included."

// newHomeTemplate parses the home page. The template text below is laid out on lines for
// reading; compact removes each line break with the tabs that start the next line, so the
// page is byte for byte the markup templ renders for the example site (which writes no
// whitespace between tags but the single spaces the source shows, e.g. "</span> <strong>":
// a line that starts with a space keeps it).
func newHomeTemplate() *template.Template {
	return template.Must(template.New("home").Parse(compact(homeTemplate)))
}

// compact joins the lines of s, dropping the tabs that start each line.
func compact(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "\t")
	}
	return strings.Join(lines, "")
}

// homeTemplate is the example site's home page (example-site/views: layout.templ,
// home.templ, home.go, links.templ) with its three slots as the library's components render
// them (components: slot.go, offerlist.go, offercard.go, banner.go, trackinglink.go),
// for a visitor who has not signed in, in tenant mode (the site
// talks to an API it does not host, as in a load run).
const homeTemplate = `<!doctype html><html lang="en"><head>
	<meta charset="utf-8">
	<meta name="viewport" content="width=device-width, initial-scale=1">
	<title>Go Airways</title>
	<meta name="description" content="` + homeDescription + `">
	<meta name="theme-color" content="#0b3b66">
	<link rel="icon" href="/static/img/logo.svg" type="image/svg+xml">
	<link rel="stylesheet" href="` + styleURL + `">
</head><body>
	<a class="skip-link" href="#main">Skip to content</a>
	<header class="site-header"><div class="container site-header__inner">
		<a class="brand" href="/" aria-label="Go Airways home">
			<img class="brand__logo" src="/static/img/logo.svg" alt="" width="36" height="36">
			 <span class="brand__name">Go Airways</span>
		</a>
		<nav class="site-nav" aria-label="Main">
			<a href="/" aria-current="page">Flights</a>
			<a href="/booking">My booking</a>
			<a href="/_personalize">Personalization</a>
		</nav>
		<a class="button button--small" href="/signin" data-testid="sign-in-link">Sign in</a>
	</div></header>
	<main id="main">
		{{with .Hero}}
		<div class="personalize-slot hero-slot" data-personalize-slot="home_page_banner" data-personalize-state="{{if .Personalized}}decision{{else}}fallback{{end}}" data-testid="slot-home-banner">
			<section class="hero hero--{{.Theme}}" data-testid="hero" data-hero-theme="{{.Theme}}" aria-labelledby="hero-title">
				<div class="container hero__inner"><div class="hero__body">
					{{if .Badge}}<p class="badge" data-testid="hero-badge">{{.Badge}}</p>{{end}}
					<h1 id="hero-title" class="hero__title">{{.Title}}</h1>
					{{if .Text}}<p class="hero__text">{{.Text}}</p>{{end}}
					{{if .Link.Href}}
					<a class="personalize-link button button--primary button--large" href="{{.Link.Href}}"{{if .Link.Tracked}} rel="nofollow"{{end}} data-testid="hero-cta">{{.CTA}}</a>
					{{else}}{{.CTA}}{{end}}
				</div>
				{{if .Image}}<img class="hero__image" src="{{.Image}}" alt="" width="560" height="360">{{end}}
				</div>
			</section>
		</div>
		{{end}}
		 <section class="container try" aria-labelledby="try-title">
			<h2 id="try-title" class="section-title">See personalization at work</h2>
			<p class="section-lead">Each link below changes what this page shows, decided on the server by Sitecore Personalize (here, its sandbox).</p>
			<ul class="try__list">
				<li><a class="try__card" href="/?utm_campaign=summer_sale&utm_source=ads&utm_medium=cpc" data-testid="try-summer">
					<span class="try__kicker">Campaign</span>
					 <strong>Arrive from the summer sale ad</strong>
					 <span>The banner and destinations switch to the sale, for the rest of your visit.</span>
				</a></li>
				<li><a class="try__card" href="/?utm_source=newsletter&utm_medium=email" data-testid="try-newsletter">
					<span class="try__kicker">Source</span>
					 <strong>Arrive from our newsletter</strong>
					 <span>Subscribers get their own offer at the bottom of the page.</span>
				</a></li>
				<li><a class="try__card" href="/" data-testid="try-returning">
					<span class="try__kicker">Returning visitor</span>
					 <strong>Come back to this page</strong>
					 <span>From your second visit on, the banner welcomes you back.</span>
				</a></li>
				<li><a class="try__card" href="/signin" data-testid="try-signin">
					<span class="try__kicker">Known guest</span>
					 <strong>Sign in as Ada</strong>
					 <span>An IDENTITY event links your browser to her, and the banner greets her by name.</span>
				</a></li>
				<li><a class="try__card" href="/_personalize/flows" data-testid="try-debug">
					<span class="try__kicker">Under the hood</span>
					 <strong>Try the flows</strong>
					 <span>Run a flow for yourself, and see every call, event and click the sandbox recorded for you.</span>
				</a></li>
			</ul>
		</section>
		<section class="container" aria-labelledby="destinations-title">
			<h2 id="destinations-title" class="section-title">Recommended destinations</h2>
			{{with .Destinations}}
			<div class="personalize-slot" data-personalize-slot="recommended_destinations" data-personalize-state="{{if .Personalized}}decision{{else}}fallback{{end}}" data-testid="slot-destinations">
				<section class="personalize-offers destinations" data-testid="personalize-offers" aria-label="Recommended destinations">
					<ul class="personalize-offers__list">
						{{range .Cards}}
						<li class="personalize-offers__item">
							<article class="personalize-offer card destination" data-testid="personalize-offer" data-offer-name="{{.Name}}">
								{{if .Image}}<img class="personalize-offer__image" src="{{.Image}}" alt="{{.Name}}" loading="lazy" decoding="async"> {{end}}
								{{if .Name}}<h3 class="personalize-offer__name">{{.Name}}</h3>{{end}}
								{{if .Description}}<p class="personalize-offer__description">{{.Description}}</p>{{end}}
								{{if .Link.Href}}
								<a class="personalize-offer__cta" href="{{.Link.Href}}"{{if .Link.Tracked}} rel="nofollow"{{end}}{{with .CTALabel}} aria-label="{{.}}"{{end}}>See fares</a>
								{{end}}
								<div class="personalize-offer__footer"><p class="fare">
									{{if .Price}}<span class="fare__price">{{.Price}}</span> {{end}}
									{{if .Duration}}<span class="fare__duration">{{.Duration}} direct</span>{{end}}
								</p></div>
							</article>
						</li>
						{{end}}
					</ul>
				</section>
			</div>
			{{end}}
		</section>
		<section class="container perks" aria-label="Why fly Go Airways">
			<div class="perk">
				<img src="/static/icons/bag.svg" alt="" width="40" height="40">
				<h3>Cabin bag included</h3>
				<p>Every fare, every flight: 10 kg on board at no extra cost.</p>
			</div>
			<div class="perk">
				<img src="/static/icons/seat.svg" alt="" width="40" height="40">
				<h3>Free date changes</h3>
				<p>Change your flight up to 14 days before departure.</p>
			</div>
			<div class="perk">
				<img src="/static/icons/insurance.svg" alt="" width="40" height="40">
				<h3>On time, 9 times in 10</h3>
				<p>Europe's most punctual airline three years running.</p>
			</div>
		</section>
		<section class="container" aria-label="Newsletter">
			{{with .Newsletter}}
			<div class="personalize-slot" data-personalize-slot="newsletter_offer" data-personalize-state="{{if .Personalized}}decision{{else}}fallback{{end}}" data-testid="slot-newsletter">
				<section id="newsletter" class="personalize-banner newsletter" data-testid="personalize-banner"{{if .Title}} aria-labelledby="newsletter-title"{{end}} data-theme="{{.Theme}}">
					{{if .Image}}<img class="personalize-banner__image" src="{{.Image}}" alt="{{.Title}}" decoding="async">{{end}}
					<div class="personalize-banner__body">
						{{if .Title}}<h2 id="newsletter-title" class="personalize-banner__title">{{.Title}}</h2>{{end}}
						{{if .Text}}<p class="personalize-banner__text">{{.Text}}</p>{{end}}
						{{if .Link.Href}}
						<a class="personalize-banner__cta" href="{{.Link.Href}}"{{if .Link.Tracked}} rel="nofollow"{{end}}{{with .CTALabel}} aria-label="{{.}}"{{end}}>{{.CTA}}</a>
						{{end}}
						{{if .Badge}}<p class="badge">{{.Badge}}</p>{{end}}
					</div>
				</section>
			</div>
			{{end}}
		</section>
	</main>
	<footer class="site-footer"><div class="container site-footer__inner">
		<p><strong>Go Airways</strong> is the demo site of <a href="https://github.com/go-personalize/sdk">go-personalize</a>, server-side Sitecore Personalize for Go.</p>
		<p class="site-footer__mode" data-testid="mode">Connected to a Sitecore Personalize tenant. <a href="/_personalize">See what was personalized</a></p>
	</div></footer>
</body></html>`
