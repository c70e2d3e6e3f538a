/** Scaffold: replaced by the billing work of issue 4. */
export default function TariffsPage() {
  return null;
}
