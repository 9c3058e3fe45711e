package xmcloud_test

import (
	"fmt"

	"github.com/go-personalize/sdk/xmcloud"
)

// The IDs of a page and of one of its components, as JSS names their experiences, and the
// page variant a VIEW reports.
func Example() {
	const page, component = "{110D559F-DEA5-42EA-9C1C-8A5DF7E70EF9}", "{A1B2C3D4-0000-1111-2222-333344445555}"
	fmt.Println(xmcloud.PageFriendlyID(page, "en-US", "Go Airways"))
	fmt.Println(xmcloud.ComponentFriendlyID(page, component, "en-US", ""))
	fmt.Println(xmcloud.PageVariantID(page, "en-US", xmcloud.DefaultVariant, ""))
	id, ok := xmcloud.ComponentVariant("a1b2c3d4_v2")
	fmt.Println(id, ok)
	// Output:
	// embedded_goairways_110d559fdea542ea9c1c8a5df7e70ef9_en_us
	// component_110d559fdea542ea9c1c8a5df7e70ef9_a1b2c3d4000011112222333344445555_en_us*
	// 110d559fdea542ea9c1c8a5df7e70ef9_en_us_default
	// a1b2c3d4 true
}
