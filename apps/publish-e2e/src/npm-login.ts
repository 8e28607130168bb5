// `npm login --registry <url>` as a person types it: npm 11 tries the web login first, verdaccio
// 5.33 does not offer it, and npm falls back to asking for a username and password. npm reads
// them from stdin whether or not it is a terminal, but only after it has printed each prompt, so
// each answer is written when its prompt appears (written up front, the password is lost).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { diagnose } from './tools.js';

export interface LoginOptions {
  /** The npm environment (npmEnv): its userconfig receives the token. */
  env: NodeJS.ProcessEnv;
  cwd: string;
  user: string;
  password: string;
  timeoutMs?: number;
}

/** Logs in through npm's own prompts; resolves once the userconfig holds a token for `registry`. */
export function npmLogin(registry: string, options: LoginOptions): Promise<void> {
  const what = `npm login --registry ${registry} as ${options.user}`;
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['login', '--registry', registry], { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const answers: Array<[RegExp, string]> = [
      [/Username:\s*$/, options.user],
      [/Password:\s*$/, options.password],
      [/Email:.*$/, `${options.user}@example.org`],
    ];
    let output = '';
    let pending = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      pending += chunk.toString('utf8');
      for (const [prompt, answer] of answers) {
        if (prompt.test(pending)) {
          child.stdin.write(`${answer}\n`);
          pending = '';
          answers.splice(answers.findIndex(([p]) => p === prompt), 1);
          break;
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${what} could not start: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      child.stdin.destroy();
      const tail = output.trim().split('\n').slice(-20).join('\n');
      if (code !== 0) {
        const why = /E401|401 Unauthorized/.test(output)
          ? `${registry} refused the password for ${options.user} (E401: that user exists with another password)`
          : diagnose(output, registry) ?? (signal !== null ? `killed by ${signal} (a prompt went unanswered?)` : `exit code ${code}`);
        reject(new Error(`${what} failed: ${why}\n--- output ---\n${tail}`));
        return;
      }
      const userconfig = options.env.npm_config_userconfig;
      const host = registry.replace(/^https?:/, '');
      const config = userconfig === undefined ? '' : readFileSync(userconfig, 'utf8');
      if (!config.split('\n').some((l) => l.startsWith(`${host}:_authToken=`))) {
        reject(new Error(`${what} exited 0 but wrote no token for ${host} into ${userconfig}\n--- output ---\n${tail}`));
        return;
      }
      resolve();
    });
  });
}
