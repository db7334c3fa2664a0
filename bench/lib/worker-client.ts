/** Requests to a benchmark's worker thread: each message carries an id, the worker replies `{ id }` when done. */

export interface WorkerClient<Message> {
  /** Sends `message` (with a fresh id) and settles when the worker replies to it. */
  call(message: Message): Promise<void>
  /** Sends a control message (open, close); settles on the worker's reply with id -1. */
  control(message: Message): Promise<void>
  terminate(): void
}

/** Starts the worker at `url`. */
export const startWorker = <Message extends object>(url: URL): WorkerClient<Message> => {
  const worker = new Worker(url.href)
  const waiting = new Map<number, () => void>()
  let nextId = 0
  worker.onmessage = (event: MessageEvent<{ id: number }>) => {
    const resolve = waiting.get(event.data.id)
    waiting.delete(event.data.id)
    resolve?.()
  }
  const send = (id: number, message: Message) =>
    new Promise<void>((resolve) => {
      waiting.set(id, resolve)
      worker.postMessage({ ...message, id })
    })
  return {
    call: (message) => send(nextId++, message),
    control: (message) => send(-1, message),
    terminate: () => worker.terminate(),
  }
}
