// What a pairing QR code holds: `outpost://pair?desk=<url>&code=<code>`,
// or the same two fields as JSON.
export interface PairingPayload {
  desk: string;
  code: string;
}

export function parsePairingPayload(text: string): PairingPayload | null {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      const value = JSON.parse(trimmed) as Record<string, unknown>;
      if (typeof value.desk === "string" && typeof value.code === "string") return { desk: value.desk, code: value.code };
    } catch {
      return null;
    }
    return null;
  }
  if (trimmed.startsWith("outpost://pair")) {
    const query = trimmed.slice(trimmed.indexOf("?") + 1);
    const params = new URLSearchParams(query);
    const desk = params.get("desk");
    const code = params.get("code");
    if (desk && code) return { desk, code };
  }
  return null;
}
