/**
 * The Deno WebSocket adapter: wires a socket to a session connection. Every handler is guarded,
 * since an exception thrown from a socket callback would end the whole process.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import { FailureError, newFailure } from "../failure.ts";
import { errorFrame } from "../protocol/outgoing.ts";
import type { Connection } from "../session/connection.ts";
import type { ConnectInfo, SessionManager } from "../session/manager.ts";

/** Close code for a session refused because the server is full or closing. */
export const TRY_AGAIN_LATER = 1013;

/**
 * Attaches an upgraded socket to the session `sid`.
 *
 * @example
 * ```ts ignore
 * const { socket, response } = Deno.upgradeWebSocket(request);
 * attachSocket(socket, manager, sid, log, { address: "203.0.113.7" });
 * return response;
 * ```
 */
export function attachSocket(
  socket: WebSocket,
  manager: SessionManager,
  sid: string,
  log: Logger,
  info: ConnectInfo = {},
): void {
  let connection: Connection | undefined;
  const guarded = <E>(what: string, handler: (event: E) => void) => (event: E) => {
    try {
      handler(event);
    } catch (error) {
      log.error(`WebSocket ${what} failed: ${(error as Error)?.stack ?? error}`);
    }
  };
  socket.onopen = guarded("open", () => {
    try {
      connection = manager.connect(sid, {
        send: (frame) => {
          if (socket.readyState === WebSocket.OPEN) socket.send(frame);
        },
        close: (code, reason) => socket.close(code, reason),
        bufferedAmount: () => socket.bufferedAmount,
      }, info);
    } catch (error) {
      if (!(error instanceof FailureError)) throw error;
      socket.send(errorFrame(error.failure));
      socket.close(TRY_AGAIN_LATER, error.message.slice(0, 100));
    }
  });
  const frameFailed = (error: unknown) => log.error(`Frame failed: ${error}`);
  socket.onmessage = guarded("message", (event: MessageEvent) => {
    if (!connection) return;
    if (typeof event.data !== "string") {
      socket.send(errorFrame(newFailure("bad-message", "Frames must be text, not binary")));
      return;
    }
    connection.receive(event.data).catch(frameFailed);
  });
  socket.onclose = guarded("close", () => connection?.closed());
  socket.onerror = guarded("error", () => {});
}
