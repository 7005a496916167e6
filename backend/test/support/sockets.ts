import { io, type Socket } from 'socket.io-client';

/** A connected socket on a server's `/batches` namespace (websocket only, no reconnection); rejects on connect_error. */
export async function connectedSocket(origin: string, token: string): Promise<Socket> {
  const socket = io(`${origin}/batches`, { auth: { token }, transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
  return socket;
}
