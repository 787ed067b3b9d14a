'use strict';
// Held-out helper: one request against an app listening on a free port.
const http = require('node:http');

function call(app, method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, () => {
      const data = body === undefined ? '' : (typeof body === 'string' ? body : JSON.stringify(body));
      const req = http.request({ port: server.address().port, method, path,
        headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        let text = '';
        res.on('data', (chunk) => { text += chunk; });
        res.on('end', () => {
          server.close();
          let json;
          try { json = JSON.parse(text); } catch { json = undefined; }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
      });
      req.setTimeout(3000, () => req.destroy(new Error(`${method} ${path}: no answer within 3s`)));
      req.on('error', (err) => { server.close(); reject(err); });
      req.end(data);
    });
  });
}

module.exports = { call };
