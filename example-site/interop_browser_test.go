package main

import "testing"

// TestSDKInteropInBrowser runs the official browser SDKs, installed from npm, in headless
// Chromium beside the library, one browser for every scenario, each a fresh visitor: Engage
// reusing the library's browser ID and the library reusing Engage's (interop_engage_test.go),
// and the Cloud SDK sharing the visitor through sc_cid with the library over the regional
// API, and through sc_cid and sc_cid_personalize with the library in Edge mode, server first
// and browser first (interop_cloudsdk_test.go).
func TestSDKInteropInBrowser(t *testing.T) {
	t.Parallel() // a browser and node: mostly waiting, beside the other tests
	node := requireSDKs(t)
	newTab := interopBrowser(t)

	t.Run("Engage reuses the browser ID the library created", func(t *testing.T) {
		testEngageAfterLibrary(t, newTab(t))
	})
	t.Run("the library reuses the browser ID Engage created and keeps its cookie", func(t *testing.T) {
		testLibraryAfterEngage(t, newTab(t))
	})
	t.Run("the Cloud SDK shares the library's visitor through sc_cid", func(t *testing.T) {
		testCloudSDKAfterLibrary(t, newTab(t), bundleCloudSDK(t, node))
	})
	t.Run("Edge: the Cloud SDK takes the browser and guest ref the library created", func(t *testing.T) {
		testCloudSDKAfterLibraryEdge(t, newTab(t), bundleCloudSDK(t, node))
	})
	t.Run("Edge: the library takes the browser and guest ref the Cloud SDK created", func(t *testing.T) {
		testLibraryAfterCloudSDKEdge(t, newTab(t), bundleCloudSDK(t, node))
	})
}
