/** A node's console: boot logs and application output, prefixed with node and core. */
export interface Console {
  log(line: string): void;
}
