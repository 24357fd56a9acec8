/**
 * The open unions of both APIs' wire types. Each lists the documented words and stays open
 * (`string & {}`) because the servers may add words: code that switches on one must have a default
 * branch.
 * @module
 */

/** A string that is one of the known words `T`, or any other string the server may send. */
export type OpenString<T extends string> = T | (string & {});
