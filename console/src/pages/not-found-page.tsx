export const NotFoundPage = () => (
  <section>
    <h1>Not found</h1>
    <p>
      No page here. Go to the <a href="/console/log">provisioning log</a>.
    </p>
  </section>
);
