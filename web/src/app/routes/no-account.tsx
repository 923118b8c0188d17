import { PageHeader } from '../../components/page-header';
import { EmptyState } from '../../components/states';

export function NoAccount({ title }: { title: string }) {
  return (
    <>
      <PageHeader title={title} />
      <EmptyState title="You are not a member of any account yet">
        <p>Ask the owner of an account to invite you; the link they send adds you to it.</p>
      </EmptyState>
    </>
  );
}
