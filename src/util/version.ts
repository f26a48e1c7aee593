// Hearth's version (package.json's, also inside a compiled binary) and the llama.cpp release it
// builds (the Makefile's LLAMA_COMMIT), named here only.
import packageJson from "../../package.json" with { type: "json" };

export const HEARTH_VERSION: string = packageJson.version;
export const LLAMA_CPP_RELEASE = "v0.5.0";

/** `hearth --version` */
export const VERSION_LINE = `hearth ${HEARTH_VERSION} (llama.cpp ${LLAMA_CPP_RELEASE})`;
