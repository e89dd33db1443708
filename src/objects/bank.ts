import { describe, integerArg, invariant, stringArg, ValueError } from "./shared.ts";

/**
 * Opening an account whose name is taken.
 *
 * @example
 * ```ts
 * throw new AccountExists('account "ann" exists');
 * ```
 */
export class AccountExists extends Error {
  override name = "AccountExists";
}

/**
 * Naming an account that was never opened.
 *
 * @example
 * ```ts
 * throw new NoSuchAccount('no account "bob"');
 * ```
 */
export class NoSuchAccount extends Error {
  override name = "NoSuchAccount";
}

/**
 * Withdrawing or transferring more than the balance.
 *
 * @example
 * ```ts
 * throw new InsufficientFunds('account "ann" holds 5, cannot take 10');
 * ```
 */
export class InsufficientFunds extends Error {
  override name = "InsufficientFunds";
}

/**
 * A bank of accounts holding integer balances (ConCoord's `Bank`): the classic example of state that must
 * never be updated twice or half-way, which the replicated log guarantees.
 *
 * - Amounts are positive safe integers (cents, say), else `ValueError`; an opening balance may be 0.
 * - Every method checks everything before it changes anything, so a refused call changes nothing.
 * - The bank's total only changes by `open`, `deposit` and `withdraw`, never by `transfer`; it is kept
 *   below 2^53 so that every balance and sum stays exact (`ValueError` past it).
 *
 * @example
 * ```ts
 * const bank = client.object<Bank>("bank");
 * await bank.open("ann", 100);
 * await bank.open("bob");
 * await bank.transfer("ann", "bob", 30);
 * await bank.balance("bob"); // 30
 * ```
 */
export class Bank {
  /** Only read, so clients may serve them without a log write. */
  static readOnlyMethods = ["balance", "accounts", "total"];

  /** Balance by account name. */
  balances = new Map<string, number>();
  /** The sum of all balances, kept so that its bound can be checked cheaply. */
  sum = 0;

  /**
   * Opens an account with an opening balance (default 0). Throws `AccountExists` if the name is taken.
   *
   * @example
   * ```ts
   * await bank.open("ann", 100);
   * ```
   */
  open(account: string, amount = 0): void {
    const name = stringArg(account, "account");
    const opening = integerArg(amount, "amount", 0);
    if (this.balances.has(name)) throw new AccountExists(`account ${describe(name)} exists`);
    this._addToSum(opening);
    this.balances.set(name, opening);
  }

  /**
   * Adds `amount` to an account; returns the new balance.
   *
   * @example
   * ```ts
   * await bank.deposit("ann", 25); // 125
   * ```
   */
  deposit(account: string, amount: number): number {
    const name = stringArg(account, "account");
    const value = integerArg(amount, "amount", 1);
    const balance = this._balanceOf(name);
    this._addToSum(value);
    this.balances.set(name, balance + value);
    return balance + value;
  }

  /**
   * Takes `amount` from an account; returns the new balance. Throws `InsufficientFunds` when it holds less.
   *
   * @example
   * ```ts
   * await bank.withdraw("ann", 25); // 100
   * ```
   */
  withdraw(account: string, amount: number): number {
    const name = stringArg(account, "account");
    const value = integerArg(amount, "amount", 1);
    const balance = this._balanceOf(name);
    if (balance < value)
      throw new InsufficientFunds(`account ${describe(name)} holds ${balance}, cannot take ${value}`);
    this._addToSum(-value);
    this.balances.set(name, balance - value);
    return balance - value;
  }

  /**
   * Moves `amount` from one account to another, all or nothing. Throws `NoSuchAccount`,
   * `InsufficientFunds`, or `ValueError` for a bad amount or a transfer to the same account.
   *
   * @example
   * ```ts
   * await bank.transfer("ann", "bob", 30);
   * ```
   */
  transfer(from: string, to: string, amount: number): void {
    const source = stringArg(from, "from");
    const target = stringArg(to, "to");
    const value = integerArg(amount, "amount", 1);
    if (source === target) throw new ValueError(`cannot transfer from ${describe(source)} to itself`);
    const sourceBalance = this._balanceOf(source);
    const targetBalance = this._balanceOf(target);
    if (sourceBalance < value)
      throw new InsufficientFunds(`account ${describe(source)} holds ${sourceBalance}, cannot take ${value}`);
    this.balances.set(source, sourceBalance - value);
    this.balances.set(target, targetBalance + value);
  }

  /**
   * An account's balance; throws `NoSuchAccount`.
   *
   * @example
   * ```ts
   * await bank.balance("ann"); // 70
   * ```
   */
  balance(account: string): number {
    return this._balanceOf(stringArg(account, "account"));
  }

  /**
   * The account names, sorted.
   *
   * @example
   * ```ts
   * await bank.accounts(); // ["ann", "bob"]
   * ```
   */
  accounts(): string[] {
    return [...this.balances.keys()].sort();
  }

  /**
   * The sum of all balances.
   *
   * @example
   * ```ts
   * await bank.total(); // 100
   * ```
   */
  total(): number {
    return this.sum;
  }

  private _balanceOf(name: string): number {
    const balance = this.balances.get(name);
    if (balance === undefined) throw new NoSuchAccount(`no account ${describe(name)}`);
    return balance;
  }

  /** Changes the total by `delta`, refusing a total past 2^53 - 1 (which bounds every balance too). */
  private _addToSum(delta: number): void {
    const next = this.sum + delta;
    if (!Number.isSafeInteger(next))
      throw new ValueError(`the bank's total would exceed ${Number.MAX_SAFE_INTEGER}`);
    invariant(next >= 0, "the total is never negative");
    this.sum = next;
  }
}
