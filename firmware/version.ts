// This bundle's version, in one place: the OTA rig and the release tool find it as the one string
// literal of the version in dist/firmware.js, so nothing else (a lazy part too) may hold a copy.
declare const FW_VERSION: string;
/** esbuild `define` FW_VERSION (set by the build); "0.0.0" when unset. */
export const FIRMWARE_VERSION: string = typeof FW_VERSION == "undefined" ? "0.0.0" : FW_VERSION;
