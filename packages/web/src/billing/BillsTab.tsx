/** Scaffold: the customer's bills (issue 4). */
export function BillsTab(_props: { accountId: number }) {
  return null;
}
