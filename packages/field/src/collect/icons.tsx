/** The collection tab's icon: a bill with a yuan sign (line drawing, like components/icons.tsx). */
export const CollectIcon = () => (
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
    <path d="M6 3h12v18l-3-2-3 2-3-2-3 2z" />
    <path d="M9 8l3 3 3-3M12 11v6M9.5 13h5M9.5 15.5h5" />
  </svg>
);
