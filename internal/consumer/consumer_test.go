package consumer_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Modules only the example site, the load tool, the browser tests or the development tools
// need: a module that uses the library must not see them.
var foreign = []string{
	"github.com/chromedp/chromedp",
	"github.com/chromedp/cdproto",
	"github.com/tsenart/vegeta",
	"github.com/PuerkitoBio/goquery",
	"github.com/go-chi/chi",
	"golang.org/x/perf",
	"honnef.co/go/tools",
}

// The README's embedding snippet, with its three placeholders defined, is a module of its
// own that requires the library (through a replace to this checkout). It builds, its
// module graph holds nothing foreign, its go line is not raised, and go doc finds the
// library's documentation.
func TestREADMESnippetInANewModule(t *testing.T) {
	t.Parallel()
	goBin := goCommand(t)
	root := repoRoot(t)
	snippet := readmeSnippet(t, root)
	dir := newModule(t, root, map[string]string{
		"main.go": snippet,
		"placeholders.go": `package main

import "github.com/a-h/templ"

var (
	clientKey     = "my-client-key"
	sessionKeys   = [][]byte{[]byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210fedcba9876543210")}
	defaultBanner = templ.Raw("<p>Welcome to our site</p>")
)
`,
	})
	run(t, dir, goBin, "mod", "tidy")
	run(t, dir, goBin, "build", "-o", os.DevNull, ".")
	run(t, dir, goBin, "vet", ".")

	modules := run(t, dir, goBin, "list", "-m", "all")
	for _, m := range foreign {
		assert.False(t, listed(modules, m), "a user of the library does not get %s:\n%s", m, modules)
	}
	assert.True(t, listed(modules, "github.com/a-h/templ"), "the check sees the modules the library does use")
	// templ's own go.mod requires x/tools (every templ release does, for its CLI), so a user of
	// the components gets it from templ, never from this library.
	for edge := range strings.SplitSeq(run(t, dir, goBin, "mod", "graph"), "\n") {
		from, to, ok := strings.Cut(edge, " ")
		if ok && strings.HasPrefix(to, "golang.org/x/tools@") {
			assert.True(t, strings.HasPrefix(from, "github.com/a-h/templ@"), "x/tools required by %s", from)
		}
	}
	assert.Regexp(t, regexp.MustCompile(`(?m)^go 1\.26\.0$`), readFile(t, filepath.Join(dir, "go.mod")), "the user's go line is not raised")

	doc := run(t, dir, goBin, "doc", "github.com/go-personalize/sdk/personalize")
	assert.Contains(t, doc, `package personalize // import "github.com/go-personalize/sdk/personalize"`)
}

// The README's test, followed literally (httptest.NewRequest, the middleware, the sandbox),
// passes: the page it serves is personalized. homePage is the one thing it leaves to the
// reader: here, a handler with the README's banner slot.
func TestREADMETestSnippetPasses(t *testing.T) {
	t.Parallel()
	goBin := goCommand(t)
	root := repoRoot(t)
	dir := newModule(t, root, map[string]string{
		"home_test.go": `package home

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize/personalizetest"
	"github.com/go-personalize/sdk/personalize/sandbox"
)

` + readmeBlock(t, root, "func TestHomePage(t *testing.T) {\n"),
		"home.go": `package home

import (
	"net/http"

	"github.com/a-h/templ"

	"github.com/go-personalize/sdk/components"
	"github.com/go-personalize/sdk/personalize"
)

var homePage = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	personalize.Prefetch(r.Context(), "home_page_banner")
	_ = components.Slot(components.SlotProps{
		FriendlyID: "home_page_banner",
		Decision:   components.BannerDecision(components.BannerProps{}),
		Fallback:   templ.Raw("<p>Welcome</p>"),
	}).Render(r.Context(), w)
})
`,
	})
	run(t, dir, goBin, "mod", "tidy")
	out := run(t, dir, goBin, "test", "-count=1", "-v", "./...")
	assert.Contains(t, out, "--- PASS: TestHomePage")
}

// A module that uses personalize and middleware only gets nothing foreign, x/tools included:
// templ is listed (the library requires it for components) but, unused, its requirements are
// pruned from the graph.
func TestAModuleWithoutComponents(t *testing.T) {
	t.Parallel()
	goBin := goCommand(t)
	dir := newModule(t, repoRoot(t), map[string]string{"main.go": `package main

import (
	"log"
	"net/http"

	"github.com/go-personalize/sdk/middleware"
	"github.com/go-personalize/sdk/personalize"
)

func main() {
	client, err := personalize.New("my-client-key", personalize.WithPointOfSale("mysite"))
	if err != nil {
		log.Fatal(err)
	}
	mw, err := middleware.New(client, middleware.Options{})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(":8080", mw.Handler(http.NotFoundHandler())))
}
`})
	run(t, dir, goBin, "mod", "tidy")
	run(t, dir, goBin, "build", "-o", os.DevNull, ".")
	modules := run(t, dir, goBin, "list", "-m", "all")
	for _, m := range append(foreign, "golang.org/x/tools") {
		assert.False(t, listed(modules, m), "a user of personalize and middleware does not get %s:\n%s", m, modules)
	}
	assert.True(t, listed(modules, "github.com/gorilla/sessions"), "the check sees the modules the library does use")
	deps := run(t, dir, goBin, "list", "-deps", ".")
	assert.NotRegexp(t, regexp.MustCompile(`(?m)^testing$`), deps, "the library links no testing package")
}

// listed reports whether the output of go list -m all names the module path (or a major
// version of it, path/vN).
func listed(modules, path string) bool {
	for line := range strings.SplitSeq(modules, "\n") {
		m, _, _ := strings.Cut(line, " ")
		if m == path || strings.HasPrefix(m, path+"/v") {
			return true
		}
	}
	return false
}

func goCommand(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the go command is not on PATH")
		}
		t.Skip("the go command is not on PATH")
	}
	return goBin
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "go.mod"))
	return root
}

// readmeSnippet is the README's first complete Go program (a ```go block that starts with
// "package main").
func readmeSnippet(t *testing.T, root string) string {
	t.Helper()
	return readmeBlock(t, root, "package main\n")
}

// readmeBlock is the README's first ```go block that starts with prefix.
func readmeBlock(t *testing.T, root, prefix string) string {
	t.Helper()
	readme := readFile(t, filepath.Join(root, "README.md"))
	for _, block := range regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(readme, -1) {
		if strings.HasPrefix(block[1], prefix) {
			return block[1]
		}
	}
	t.Fatalf("README.md has no ```go block that starts with %q", prefix)
	return ""
}

// newModule writes a module requiring the library at root, with the files.
func newModule(t *testing.T, root string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module example.com/consumer\n\ngo 1.26.0\n\nrequire github.com/go-personalize/sdk v0.0.0\n\nreplace github.com/go-personalize/sdk => " + root + "\n"
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	return dir
}

func run(t *testing.T, dir, goBin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}
