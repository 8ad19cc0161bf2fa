/**
 * Serves the local run's report (`--serve`): `GET /` is report.html, `GET /report.json` the data; on
 * 127.0.0.1 only. A busy port is a clear error.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

export interface ReportServer {
  readonly url: string;
  close(): Promise<void>;
}

const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'report.html', type: 'text/html; charset=utf-8' },
  '/report.html': { file: 'report.html', type: 'text/html; charset=utf-8' },
  '/report.json': { file: 'report.json', type: 'application/json; charset=utf-8' },
};

export async function startReportServer(folder: string, port: number): Promise<ReportServer> {
  const server = http.createServer((request, response) => {
    const entry = request.method === 'GET' ? FILES[new URL(request.url ?? '/', 'http://localhost').pathname] : undefined;
    if (entry === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    fs.readFile(path.join(folder, entry.file), (error, data) => {
      if (error) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`cannot read ${entry.file}\n`);
      else response.writeHead(200, { 'content-type': entry.type, 'cache-control': 'no-store' }).end(data);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} is in use: the report page needs it (choose another --port; the report uses --port + 1)`) : error);
    });
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
