// Explore's inspector, mounted with the data on every rerun. Its code comes once per page with the
// "poolscope_inspector_code" component (inspector.js), so that this message stays small.
const READY = "poolscope-inspector-ready";

export default async function inspector(args) {
  if (!globalThis.poolscopeInspector) {
    await new Promise((resolve) => window.addEventListener(READY, resolve, { once: true }));
  }
  return globalThis.poolscopeInspector(args);
}
