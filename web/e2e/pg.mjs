// One SQL statement on the embedded PostgreSQL of a server started by the
// harness (its Unix socket under <data-dir>/postgres/socket, role and
// database `echoloop`, trust authentication), without psql: the simple
// query protocol over the socket. For tests that change what no API can,
// e.g. a media link that expired.
import net from 'node:net';
import path from 'node:path';

/** Runs `statement`; resolves the command tag (`UPDATE 1`), rejects with the server's error. */
export function sql(dataDir, statement) {
  const socket = net.connect(path.join(dataDir, 'postgres', 'socket', '.s.PGSQL.5432'));
  const message = (type, body) => {
    const head = Buffer.alloc(5);
    head.write(type, 0, 'latin1');
    head.writeInt32BE(body.length + 4, 1);
    return Buffer.concat([head, body]);
  };
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    let tag = null;
    let error = null;
    const fail = (e) => {
      socket.destroy();
      reject(e);
    };
    socket.on('error', fail);
    socket.on('connect', () => {
      const params = Buffer.from('user\0echoloop\0database\0echoloop\0\0', 'latin1');
      const startup = Buffer.alloc(8);
      startup.writeInt32BE(8 + params.length, 0);
      startup.writeInt32BE(196608, 4); // protocol 3.0
      socket.write(Buffer.concat([startup, params]));
    });
    let queried = false;
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 5) {
        const type = String.fromCharCode(buffer[0]);
        const length = buffer.readInt32BE(1);
        if (buffer.length < 1 + length) return;
        const body = buffer.subarray(5, 1 + length);
        buffer = buffer.subarray(1 + length);
        if (type === 'R' && body.readInt32BE(0) !== 0) return fail(new Error('the embedded PostgreSQL asked for a password'));
        if (type === 'E') {
          // Fields: a type byte and a NUL-terminated string each; 'M' is the message.
          const fields = body.toString('utf8').split('\0');
          error = new Error(fields.find((f) => f.startsWith('M'))?.slice(1) ?? 'SQL error');
        }
        if (type === 'C') tag = body.toString('utf8').replace(/\0$/, '');
        if (type === 'Z') {
          if (!queried && !error) {
            queried = true;
            socket.write(message('Q', Buffer.from(`${statement}\0`, 'utf8')));
            continue;
          }
          socket.end(message('X', Buffer.alloc(0)));
          return error ? reject(error) : resolve(tag);
        }
      }
    });
  });
}
