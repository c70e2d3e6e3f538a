/** The work orders tab's icon: a wrench over a valve (line drawing, like components/icons.tsx). */
export const OrdersIcon = () => (
  <svg
    width="1em"
    height="1em"
    viewBox="0 0 24 24"
    fill="none"
    stroke="currentColor"
    strokeWidth={2}
    strokeLinecap="round"
    strokeLinejoin="round"
    aria-hidden="true"
  >
    <path d="M4 20h16M7 20v-6h10v6M12 14V9M8 9h8" />
    <path d="M12 4v5" />
  </svg>
);
