/** Reads an SSM parameter and Secrets Manager secrets: the connectors document and connector credentials in AWS. */
export interface ParameterReader {
  /** The parameter's value, decrypted (a SecureString too). */
  parameter(name: string): Promise<string>;
  /** The secret's string value. */
  secret(secretId: string): Promise<string>;
}
