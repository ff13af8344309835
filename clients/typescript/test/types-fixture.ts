/**
 * Compile-time checks of the client's types (test/types.test.ts compiles this file and expects
 * no error: each `@ts-expect-error` line must be an error, or its directive is one).
 */
import { createMessagingClient, type Message, type StreamEvent } from '../src/index.js';

export async function typeChecks(): Promise<void> {
  const api = createMessagingClient({ baseUrl: 'http://localhost:3000', getToken: () => 'x' });

  const message: Message = await api.sendMessage('t', { body: 'hello' });
  const seq: number = message.seq;
  const body: string | null = message.body;
  void seq;
  void body;

  // @ts-expect-error a send needs a body
  await api.sendMessage('t', {});
  // @ts-expect-error the body is text
  await api.sendMessage('t', { body: 42 });
  // @ts-expect-error unknown fields are refused (the API answers 400)
  await api.sendMessage('t', { body: 'x', priority: 'high' });
  // @ts-expect-error startThread names its recipient
  await api.startThread({ body: 'hello' });
  // @ts-expect-error before/after are message ids (strings)
  await api.listMessages('t', { before: 3 });
  // @ts-expect-error the thread page has no `items`
  void (await api.listThreads()).items;

  for await (const event of api.events()) {
    const e: StreamEvent = event;
    if (e.event === 'message.created') {
      const id: string = e.data.message.id;
      void id;
    }
    if (e.event === 'unread.changed') {
      const total: number = e.data.total;
      // @ts-expect-error unread.changed carries no message
      void e.data.message;
      void total;
    }
  }
}
