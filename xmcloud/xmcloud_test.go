package xmcloud_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-personalize/sdk/xmcloud"
)

// The cases of Sitecore/content-sdk packages/core/src/personalize/utils.test.ts (CdpHelper),
// at 51262aaf, and the ones it leaves out.
func TestIDsAsTheContentSDKBuildsThem(t *testing.T) {
	const (
		pageID    = "110d559fdea542ea9c1c8a5df7e70ef9"
		variantID = "54c8e9b50b2c53638fa6d32a3a302f51"
	)
	for _, tt := range []struct{ name, got, want string }{
		{"page variant, default", xmcloud.PageVariantID(pageID, "en", xmcloud.DefaultVariant, ""), pageID + "_en_default"},
		{"page variant, default with scope", xmcloud.PageVariantID(pageID, "en", xmcloud.DefaultVariant, "myscope1"), "myscope1_" + pageID + "_en_default"},
		{"page variant, empty", xmcloud.PageVariantID(pageID, "en", "", ""), pageID + "_en_default"},
		{"page variant", xmcloud.PageVariantID(pageID, "en", variantID, ""), pageID + "_en_" + variantID},
		{"page variant with scope", xmcloud.PageVariantID(pageID, "en", variantID, "myscope1"), "myscope1_" + pageID + "_en_" + variantID},
		{"page variant, upper case and a GUID with braces", xmcloud.PageVariantID("{110D559F-DEA5-42EA-9C1C-8A5DF7E70EF9}", "en-US", "ABC", "My Scope!"),
			"myscope_" + pageID + "_en_us_abc"},
		{"page friendly ID", xmcloud.PageFriendlyID(pageID, "en", ""), "embedded_" + pageID + "_en"},
		{"page friendly ID with scope", xmcloud.PageFriendlyID("{110D559F-DEA5-42EA-9C1C-8A5DF7E70EF9}", "da-DK", "scope-1"), "embedded_scope1_" + pageID + "_da_dk"},
		{"component friendly ID", xmcloud.ComponentFriendlyID(pageID, "{A1B2C3D4-0000-1111-2222-333344445555}", "en", ""),
			"component_" + pageID + "_a1b2c3d4000011112222333344445555_en*"},
		{"component friendly ID with scope", xmcloud.ComponentFriendlyID(pageID, "c1", "en", "s"), "component_s_" + pageID + "_c1_en*"},
		{"only the first dash of a language", xmcloud.PageFriendlyID(pageID, "zh-Hant-TW", ""), "embedded_" + pageID + "_zh_hant-tw"},
		{"a scope of symbols only", xmcloud.PageFriendlyID(pageID, "en", "!!"), "embedded__" + pageID + "_en"},
		{"normalized scope", xmcloud.NormalizeScope("my-scope_1 two"), "myscope1two"},
	} {
		assert.Equal(t, tt.want, tt.got, tt.name)
	}
}

func TestComponentVariant(t *testing.T) {
	id, ok := xmcloud.ComponentVariant("c1a2_v3")
	assert.True(t, ok)
	assert.Equal(t, "c1a2", id)
	_, ok = xmcloud.ComponentVariant("54c8e9b5")
	assert.False(t, ok, "a page variant has no '_'")
}

// The Go functions give what Sitecore's own CdpHelper gives, run by node, for random
// inputs (ASCII: item IDs, languages and scopes are).
func TestIDsAgainstTheContentSDKInNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is needed to run Sitecore's CdpHelper and is missing (CI installs nodejs)")
		}
		t.Skip("node is not installed: the comparison with Sitecore's CdpHelper is skipped")
	}
	cmd := exec.Command(node, "testdata/cdphelper.mjs")
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = in.Close(); _ = cmd.Wait() })
	answers := bufio.NewScanner(out)
	js := func(fn string, args ...string) string {
		t.Helper()
		line, err := json.Marshal(map[string]any{"fn": fn, "args": args})
		require.NoError(t, err)
		_, err = fmt.Fprintf(in, "%s\n", line)
		require.NoError(t, err)
		require.True(t, answers.Scan(), "node answered nothing: %v", answers.Err())
		var s string
		require.NoError(t, json.Unmarshal(answers.Bytes(), &s))
		return s
	}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcdefABCDEF0123456789{}-_ .!xyzXYZ"
	word := func() string {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 300 {
		page, comp, lang, variant, scope := word(), word(), word(), word(), word()
		if r.IntN(4) == 0 {
			variant = xmcloud.DefaultVariant
		}
		assert.Equal(t, js("getPageFriendlyId", page, lang, scope), xmcloud.PageFriendlyID(page, lang, scope), "page %q lang %q scope %q", page, lang, scope)
		assert.Equal(t, js("getComponentFriendlyId", page, comp, lang, scope), xmcloud.ComponentFriendlyID(page, comp, lang, scope),
			"page %q component %q lang %q scope %q", page, comp, lang, scope)
		assert.Equal(t, js("getPageVariantId", page, lang, variant, scope), xmcloud.PageVariantID(page, lang, variant, scope),
			"page %q lang %q variant %q scope %q", page, lang, variant, scope)
		assert.Equal(t, js("normalizeScope", scope), xmcloud.NormalizeScope(scope), "scope %q", scope)
	}
}
