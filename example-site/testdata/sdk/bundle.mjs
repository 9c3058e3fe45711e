// Bundles cloudsdk-browser.mjs (the Cloud SDK's browser packages and the page's glue) with
// esbuild's JavaScript API and writes the bundle, an ES module, to standard output: the test
// serves it from memory (example-site/interop_test.go: bundleCloudSDK). The API works whether
// or not npm ran esbuild's install script (which swaps bin/esbuild for the native binary).
//
//	node bundle.mjs > cloudsdk.js
import { build } from 'esbuild';

const result = await build({
  entryPoints: [new URL('./cloudsdk-browser.mjs', import.meta.url).pathname],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  write: false,
  logLevel: 'warning',
});
process.stdout.write(result.outputFiles[0].contents);
