package personalize_test

import (
	"context"
	"fmt"
	"log"

	"github.com/go-personalize/sdk/personalize"
	"github.com/go-personalize/sdk/personalize/sandbox"
	"github.com/go-personalize/sdk/xmcloud"
)

// An XM Cloud page's embedded experience through the Sitecore Edge proxy: the client names
// the site by its context ID and site name (no client key, no point of sale), the flow by the
// friendly ID JSS gives it, and offers the page's variants; the answer names the one to show,
// and the page's VIEW says which it was. The sandbox serves the Edge endpoints as Sitecore's
// proxy does.
func ExampleWithEdge() {
	const pageID, lang, scope = "{110D559F-DEA5-42EA-9C1C-8A5DF7E70EF9}", "en", "go-airways"
	friendlyID := xmcloud.PageFriendlyID(pageID, lang, scope)
	srv := sandbox.NewServer(sandbox.New(sandbox.WithFlows(
		sandbox.Define(friendlyID).ReturnsVariant(sandbox.VariantAt(-1)), // the last variant offered
	)))
	defer srv.Close()

	client, err := personalize.New("",
		personalize.WithEdge(sandbox.DefaultContextID, sandbox.DefaultSiteName), // in production: your site's
		personalize.WithBaseURL(srv.URL),                                        // in production: leave it out (personalize.EdgeURL)
	)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(context.Background())
	browser, err := client.CreateBrowser(context.Background())
	if err != nil {
		log.Fatal(err)
	}

	ctx, done := personalize.StartPage(context.Background(), client, personalize.Visitor{BrowserID: browser, Path: "/flights"})
	defer done()
	res, err := personalize.Flow(ctx, friendlyID, personalize.WithVariants("default", "3c5a8e1f"))
	if err != nil {
		log.Fatal(err)
	}
	var answer struct {
		VariantID string `json:"variantId"`
	}
	if err := res.Decode(&answer); err != nil {
		log.Fatal(err)
	}
	_ = personalize.SetPageVariant(ctx, xmcloud.PageVariantID(pageID, lang, answer.VariantID, scope))
	fmt.Println(friendlyID)
	fmt.Println(answer.VariantID)
	fmt.Println(xmcloud.PageVariantID(pageID, lang, answer.VariantID, scope))
	// Output:
	// embedded_goairways_110d559fdea542ea9c1c8a5df7e70ef9_en
	// 3c5a8e1f
	// goairways_110d559fdea542ea9c1c8a5df7e70ef9_en_3c5a8e1f
}
