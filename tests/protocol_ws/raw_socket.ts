/**
 * A WebSocket client over a bare TCP connection, for the attacks a normal client cannot make:
 * it performs the upgrade, sends masked text frames, and reads nothing unless asked, so the
 * server's output piles up as it would for a client that stopped reading.
 *
 * @module
 */
import type { TestBrowser } from "../support/ws_client.ts";

/** A raw WebSocket connection that never reads on its own. */
export interface RawSocket {
  /** Sends one masked text frame; resolves once the bytes are written. */
  sendText(text: string): Promise<void>;
  /** Reads whatever arrived (at most `max` bytes) and returns how many; 0 at the end. */
  drain(max?: number): Promise<number>;
  close(): void;
}

/** Upgrades `/ws/<sid>` as `browser` over a bare TCP connection. */
export async function openRawSocket(
  port: number,
  sid: string,
  browser: TestBrowser,
): Promise<RawSocket> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const headers = [
    `GET /ws/${sid} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
    ...(browser.cookie ? [`Cookie: ${browser.cookie}`] : []),
    "",
    "",
  ].join("\r\n");
  await writeAll(conn, new TextEncoder().encode(headers));
  // Read the answer's headers only, byte by byte, so no frame after them is consumed.
  let head = "";
  const one = new Uint8Array(1);
  while (!head.endsWith("\r\n\r\n")) {
    if ((await conn.read(one)) === null) throw new Error(`Upgrade refused: ${head}`);
    head += String.fromCharCode(one[0] as number);
  }
  if (!head.startsWith("HTTP/1.1 101")) throw new Error(`Upgrade refused: ${head}`);
  return {
    sendText: (text) => writeAll(conn, maskedFrame(new TextEncoder().encode(text))),
    async drain(max = 1 << 20) {
      const buffer = new Uint8Array(64 * 1024);
      let total = 0;
      while (total < max) {
        const n = await conn.read(buffer);
        if (n === null) break;
        total += n;
      }
      return total;
    },
    close() {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    },
  };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/** A final, masked text frame (RFC 6455 5.2). */
function maskedFrame(payload: Uint8Array): Uint8Array {
  const length = payload.length;
  const extra = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const frame = new Uint8Array(2 + extra + 4 + length);
  frame[0] = 0x81;
  if (extra === 0) frame[1] = 0x80 | length;
  else if (extra === 2) {
    frame[1] = 0x80 | 126;
    new DataView(frame.buffer).setUint16(2, length);
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(length));
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  frame.set(mask, 2 + extra);
  const start = 2 + extra + 4;
  for (let i = 0; i < length; i++) {
    frame[start + i] = (payload[i] as number) ^ (mask[i & 3] as number);
  }
  return frame;
}
