/** A failure said plainly, with a way to try again. */
export const ErrorMessage = ({ message, retry }: { message: string; retry?: () => void }) => (
  <div class="error-box" role="alert">
    <p>{message}</p>
    {retry && (
      <button type="button" onClick={retry}>
        Try again
      </button>
    )}
  </div>
);
