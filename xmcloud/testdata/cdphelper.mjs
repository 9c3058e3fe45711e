// CdpHelper from Sitecore/content-sdk packages/core/src/personalize/utils.ts (Apache-2.0),
// copied verbatim but for its TypeScript types, so that xmcloud_test.go checks the Go
// functions against Sitecore's own code, run by node. Reads JSON lines of
// {fn, args} on standard input and writes one JSON string per line.
import { createInterface } from 'node:readline';

const DEFAULT_VARIANT = '_default';

class CdpHelper {
  static getPageVariantId(pageId, language, variantId, scope) {
    const formattedPageId = pageId.replace(/[{}-]/g, '');
    const formattedLanguage = language.replace('-', '_');
    const scopeId = scope ? `${this.normalizeScope(scope)}_` : '';
    let formattedVariantId = variantId;
    if (!variantId || variantId === DEFAULT_VARIANT) {
      formattedVariantId = 'default';
    }
    return `${scopeId}${formattedPageId}_${formattedLanguage}_${formattedVariantId}`.toLowerCase();
  }

  static getPageFriendlyId(pageId, language, scope) {
    const formattedPageId = pageId.replace(/[{}-]/g, '');
    const formattedLanguage = language.replace('-', '_');
    const scopeId = scope ? `${this.normalizeScope(scope)}_` : '';
    return `embedded_${scopeId}${formattedPageId}_${formattedLanguage}`.toLowerCase();
  }

  static getComponentFriendlyId(pageId, componentId, language, scope) {
    const formattedPageId = pageId.replace(/[{}-]/g, '');
    const formattedComponentId = componentId.replace(/[{}-]/g, '');
    const formattedLanguage = language.replace('-', '_');
    const scopeId = scope ? `${this.normalizeScope(scope)}_` : '';
    return `component_${scopeId}${formattedPageId}_${formattedComponentId}_${formattedLanguage}*`.toLowerCase();
  }

  static normalizeScope(scope) {
    return scope?.replace(/[^a-zA-Z0-9]+/g, '') || '';
  }
}

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  const { fn, args } = JSON.parse(line);
  process.stdout.write(JSON.stringify(CdpHelper[fn](...args)) + '\n');
}
