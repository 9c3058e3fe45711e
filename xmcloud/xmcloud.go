// Package xmcloud builds the IDs that XM Cloud (SitecoreAI) sites give Sitecore Personalize
// for their page and component experiences, the way Sitecore's JSS and Content SDK build
// them, so that a Go head calls the flows the XM Cloud editors' experiences created and
// reports the variants it showed:
//
//	friendlyID := xmcloud.PageFriendlyID(pageID, "en", scope)   // "embedded_<page>_en"
//	res, err := personalize.Flow(ctx, friendlyID, personalize.WithVariants(variantIDs...))
//	shown := chosenVariant(res)                                 // the answer's variantId
//	_ = personalize.SetPageVariant(ctx, xmcloud.PageVariantID(pageID, "en", shown, scope))
//
// The page ID, its language, its variant IDs and the scope come from Experience Edge (the
// layout's personalization data) and the site's configuration. The IDs go through the
// Sitecore Edge proxy: make the client with personalize.WithEdge.
//
// Every function follows Sitecore/content-sdk packages/core/src/personalize/utils.ts
// (CdpHelper), character for character, including what it does not do: only the first '-'
// of a language becomes '_' (JavaScript's String.replace with a string pattern).
package xmcloud

import (
	"strings"
)

// DefaultVariant is the variant ID of a page's or component's default content
// (content-sdk utils.ts, DEFAULT_VARIANT).
const DefaultVariant = "_default"

// PageFriendlyID is the friendly ID of a page's embedded personalization experience,
// embedded_[<scope>_]<pageID>_<language>, lower-cased, with the braces and dashes of the page
// ID removed and the first '-' of the language made '_' (CdpHelper.getPageFriendlyId).
func PageFriendlyID(pageID, language, scope string) string {
	return strings.ToLower("embedded_" + scopePrefix(scope) + bareID(pageID) + "_" + languagePart(language))
}

// ComponentFriendlyID is the friendly ID of a component's A/B test on a page,
// component_[<scope>_]<pageID>_<componentID>_<language>*, lower-cased, the IDs without braces
// and dashes (CdpHelper.getComponentFriendlyId). The trailing '*' is part of the ID.
func ComponentFriendlyID(pageID, componentID, language, scope string) string {
	return strings.ToLower("component_" + scopePrefix(scope) + bareID(pageID) + "_" + bareID(componentID) + "_" +
		languagePart(language) + "*")
}

// PageVariantID is the ID of the page variant a visitor is shown, for the page view's
// ext.pageVariantId (personalize.SetPageVariant): [<scope>_]<pageID>_<language>_<variantID>,
// lower-cased, where an empty variantID or DefaultVariant is "default"
// (CdpHelper.getPageVariantId).
func PageVariantID(pageID, language, variantID, scope string) string {
	if variantID == "" || variantID == DefaultVariant {
		variantID = "default"
	}
	return strings.ToLower(scopePrefix(scope) + bareID(pageID) + "_" + languagePart(language) + "_" + variantID)
}

// NormalizeScope is the scope as the IDs carry it: every run of characters other than ASCII
// letters and digits removed (CdpHelper.normalizeScope).
func NormalizeScope(scope string) string {
	var b strings.Builder
	for i := 0; i < len(scope); i++ {
		c := scope[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ComponentVariant splits a component variant ID, "<componentID>_<variantID>", as the JSS
// middleware tells component variants (which have a '_') from page variants (which have
// none): ok is false for a page variant (content-sdk utils.ts, getGroomedVariantIds).
func ComponentVariant(variantID string) (componentID string, ok bool) {
	componentID, _, ok = strings.Cut(variantID, "_")
	return componentID, ok
}

// scopePrefix is "<normalized scope>_", or "" without a scope. A scope that normalizes to ""
// adds "_" as the JavaScript does (its test is on the scope given, not the normalized one).
func scopePrefix(scope string) string {
	if scope == "" {
		return ""
	}
	return NormalizeScope(scope) + "_"
}

// bareID removes the braces and dashes of a Sitecore item ID ({A1B2-...} -> A1B2...).
func bareID(id string) string {
	return strings.NewReplacer("{", "", "}", "", "-", "").Replace(id)
}

// languagePart makes the first '-' of a language '_' ("en-US" -> "en_US").
func languagePart(language string) string {
	return strings.Replace(language, "-", "_", 1)
}
