/**
 * Prototypes of a leaner request core, for the client benchmark's `--breakdown` only: what a `getStatus`
 * would cost if `src/clients/core.ts` made the changes recommended in docs/performance.md. They keep the
 * behaviour that matters for the comparison — one attempt timeout, the Bearer header, the status check,
 * JSON parsing, a retry after a failure — and nothing else. They are not the library.
 */
import http from 'node:http';
import pRetry from 'p-retry';

/** ky removed: `fetch` called directly with prebuilt headers; p-retry entered only after a first failure. */
export class LeanFetchCore {
  readonly #base: string;
  readonly #headers: Record<string, string>;

  constructor(baseUrl: string, key: string) {
    this.#base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    this.#headers = { authorization: `Bearer ${key}`, accept: 'application/json' };
  }

  async #attempt(path: string): Promise<unknown> {
    const attempt = new AbortController();
    const timer = setTimeout(() => attempt.abort(), 30_000);
    try {
      const response = await fetch(this.#base + path, { headers: this.#headers, redirect: 'manual', signal: attempt.signal });
      const text = await response.text();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return JSON.parse(text) as unknown;
    } finally {
      clearTimeout(timer);
    }
  }

  async get(path: string): Promise<unknown> {
    try {
      return await this.#attempt(path);
    } catch {
      return pRetry(() => this.#attempt(path), { retries: 1, minTimeout: 0 });
    }
  }
}

/** The same over `node:http` with a keep-alive agent instead of `fetch`. */
export class LeanHttpCore {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #agent = new http.Agent({ keepAlive: true });

  constructor(baseUrl: string, key: string) {
    this.#base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    this.#headers = { authorization: `Bearer ${key}`, accept: 'application/json' };
  }

  #attempt(path: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = http.request(this.#base + path, { headers: this.#headers, agent: this.#agent, timeout: 30_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) return reject(new Error(`HTTP ${status}`));
          try {
            resolve(JSON.parse(text) as unknown);
          } catch (error) {
            reject(error as Error);
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
  }

  async get(path: string): Promise<unknown> {
    try {
      return await this.#attempt(path);
    } catch {
      return pRetry(() => this.#attempt(path), { retries: 1, minTimeout: 0 });
    }
  }

  close(): void {
    this.#agent.destroy();
  }
}
