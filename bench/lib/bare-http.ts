/**
 * The baselines' HTTP: requests written the way people write them with Node's `fetch`, and the same
 * requests over `node:http` with a keep-alive agent (the cheapest transport Node has, to show how much
 * of a floor is the transport itself). No retries, no checks beyond the status.
 */
import http from 'node:http';

/** Headers of the Agent API. */
export function agentHeaders(key: string, json = false): Record<string, string> {
  return json
    ? { authorization: `Bearer ${key}`, accept: 'application/json', 'content-type': 'application/json' }
    : { authorization: `Bearer ${key}`, accept: 'application/json' };
}

/** `PATCH /api/v1/tasks/{runId} {"action":"cancel"}` with `fetch`; resolves with the status code (rejects on a network error). */
export async function fetchCancel(baseUrl: string, key: string, runId: string): Promise<number> {
  const response = await fetch(`${baseUrl}/api/v1/tasks/${encodeURIComponent(runId)}`, {
    method: 'PATCH',
    headers: agentHeaders(key, true),
    body: '{"action":"cancel"}',
  });
  await response.json();
  return response.status;
}

/** `GET /api/v1/tasks/{runId}/status` with `fetch`, body parsed. */
export async function fetchStatus(url: string, headers: Record<string, string>): Promise<unknown> {
  const response = await fetch(url, { headers });
  return response.json();
}

/** A `node:http` client with one keep-alive agent. */
export class KeepAliveHttp {
  readonly #agent = new http.Agent({ keepAlive: true });

  /**
   * Sends a request and resolves with the status code and the parsed JSON body. A request that fails
   * with ECONNRESET on a reused socket (the server closed it while idle, the keep-alive race) is sent
   * once more on a fresh one, as the Node documentation advises (`request.reusedSocket`).
   */
  request(url: string, init: { method?: string; headers: Record<string, string>; body?: string }): Promise<{ status: number; body: unknown }> {
    return this.#send(url, init).catch((error: unknown) => {
      if ((error as { reusedSocket?: boolean }).reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') return this.#send(url, init);
      throw error;
    });
  }

  #send(url: string, init: { method?: string; headers: Record<string, string>; body?: string }): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent: this.#agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
          } catch (error) {
            reject(error as Error);
          }
        });
        res.on('error', reject);
      });
      req.on('error', (error) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
      req.end(init.body);
    });
  }

  cancel(baseUrl: string, key: string, runId: string): Promise<number> {
    return this.request(`${baseUrl}/api/v1/tasks/${encodeURIComponent(runId)}`, {
      method: 'PATCH',
      headers: agentHeaders(key, true),
      body: '{"action":"cancel"}',
    }).then(({ status }) => status);
  }

  close(): void {
    this.#agent.destroy();
  }
}
