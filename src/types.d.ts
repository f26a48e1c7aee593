// Files imported as assets (bun build --compile embeds them).
declare module "*.gguf" {
  const path: string;
  export default path;
}
// The chat page's files (src/ui/assets.ts): browser code served as-is, never imported as modules.
declare module "*.css" {
  const path: string;
  export default path;
}
declare module "*.mjs" {
  const path: string;
  export default path;
}
declare module "*.js" {
  const path: string;
  export default path;
}
