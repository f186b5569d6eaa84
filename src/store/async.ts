// Async<T>: the asynchronous version of a synchronous storage capability, as a server's store implements it.

/**
 * Every method of T returning a Promise of what it returned, with the same parameters; other members as
 * they are. Capabilities are declared once, synchronously (the embedded store must write from an exit
 * handler), and the server's stores implement `Async<Capability>`: same rules, same errors, as rejections.
 */
export type Async<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : T[K];
};
