package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTheSiteLinksNoTestingPackage: the binary mounts the sandbox in sandbox mode, and the
// sandbox must not drag the testing package (and its flags) into a production build.
func TestTheSiteLinksNoTestingPackage(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the go command is not on PATH")
		}
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/go-personalize/sdk/personalize/sandbox", "the site links the sandbox")
	for _, p := range []string{"testing", "github.com/go-personalize/sdk/personalize/personalizetest", "github.com/stretchr/testify/assert"} {
		assert.NotContains(t, deps, p)
	}
}
