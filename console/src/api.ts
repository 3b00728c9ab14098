/** A refusal or failure of the admin API, with the message it gave. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The token was refused: the operator must sign in again. */
  get signedOut(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export type Query = Record<string, string | undefined>;

export interface AdminApi {
  get<T>(path: string, query?: Query): Promise<T>;
  post<T>(path: string, query?: Query, body?: unknown): Promise<T>;
  /** A write to one resource (PUT, PATCH, DELETE), with request headers such as If-Match. */
  send<T>(method: 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers?: Record<string, string>): Promise<T>;
  /** A file as the request body, as it is (an import's upload). */
  upload<T>(path: string, query: Query, file: Blob): Promise<T>;
  /** An answer that is a file (an export), as a Blob of the type the hub gave. */
  download(path: string, query?: Query): Promise<Blob>;
}

const messageOf = (body: unknown): string | undefined => {
  if (body && typeof body === 'object') {
    const { error, message, detail } = body as { error?: unknown; message?: unknown; detail?: unknown };
    if (typeof error === 'string') return error;
    if (typeof message === 'string') return message;
    if (typeof detail === 'string') return detail;
  }
  return undefined;
};

/**
 * The admin API at `baseUrl` (config.json's `apiBaseUrl`: `/operator` on the hub's own origin
 * locally, the API stage in AWS), every call carrying the operator's token. `onSignedOut` runs
 * when the hub refuses the token (it expired, was changed, or the hub restarted with another),
 * so the page asks for it again instead of showing a broken view.
 */
export const adminApi = (token: string, onSignedOut: () => void, baseUrl = '/operator'): AdminApi => {
  const call = async <T>(
    method: string,
    path: string,
    query: Query = {},
    body?: unknown,
    headers: Record<string, string> = {},
    options: { file?: Blob; asBlob?: boolean } = {},
  ): Promise<T> => {
    const url = new URL(`${baseUrl.replace(/\/+$/, '')}${path}`, window.location.origin);
    for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') url.searchParams.set(name, value);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          ...headers,
          authorization: `Bearer ${token}`,
          ...(options.file
            ? { 'content-type': options.file.type || 'application/octet-stream' }
            : body === undefined
              ? {}
              : { 'content-type': 'application/json' }),
        },
        body: options.file ?? (body === undefined ? undefined : JSON.stringify(body)),
      });
    } catch {
      throw new ApiError(0, 'The hub does not answer: is it running?');
    }
    if (response.ok && options.asBlob) return (await response.blob()) as T;
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const error = new ApiError(response.status, messageOf(json) ?? `${response.status} ${response.statusText}`);
      if (error.signedOut) onSignedOut();
      throw error;
    }
    return json as T;
  };
  return {
    get: (path, query) => call('GET', path, query),
    post: (path, query, body) => call('POST', path, query, body),
    send: (method, path, body, headers) => call(method, path, {}, body, headers),
    upload: (path, query, file) => call('POST', path, query, undefined, {}, { file }),
    download: (path, query) => call<Blob>('GET', path, query, undefined, {}, { asBlob: true }),
  };
};
