// Files imported as assets (bun build --compile embeds them).
declare module "*.gguf" {
  const path: string;
  export default path;
}
