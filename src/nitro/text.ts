/**
 * Document content (certificate names, payload keys, module ids) is attacker-chosen text. Anything built from it for
 * a human, an error message or a CLI line, goes through {@link printable} first so a crafted document cannot move
 * the cursor, clear the screen, reorder text (bidi overrides) or fake lines on the reader's terminal.
 */

// C0 controls (newline and tab included: one message is one line), DEL, C1 controls (0x9b is a one-byte CSI on
// some terminals), line/paragraph separators, and the invisible bidi marks, embeddings, overrides and isolates.
// With the u flag a surrogate pair is one code point, so the surrogate range matches lone surrogates only.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]/gu;
const UNSAFE_TEST = new RegExp(UNSAFE.source, "u");

/** `text` with every control, bidi or lone-surrogate code unit written as a visible escape (\x1b, \u202e). */
export function printable(text: string): string {
  if (!UNSAFE_TEST.test(text)) return text;
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/**
 * JSON.stringify, with the characters JSON leaves raw but terminals act on (DEL, C1 controls, bidi controls, line
 * separators) written as \u escapes: the result parses to the same value and is safe to print.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? "0x" + Buffer.from(v).toString("hex") : v)).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
