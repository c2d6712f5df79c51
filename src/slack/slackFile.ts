import { z } from 'zod';

/**
 * A file as Slack lists it on a message (`files[]` of a `message` / `app_mention` event and of
 * `conversations.replies`): only the fields the bot reads. https://docs.slack.dev/reference/objects/file-object
 * A Slack Connect file the bot may not see arrives as a stub with `file_access: 'check_file_info'` and must
 * be looked up with `files.info`.
 */
export const slackFileSchema = z.looseObject({
  id: z.string().regex(/^F[A-Z0-9]+$/),
  name: z.string().optional(),
  title: z.string().optional(),
  mimetype: z.string().optional(),
  filetype: z.string().optional(),
  size: z.number().optional(),
  url_private_download: z.string().optional(),
  url_private: z.string().optional(),
  file_access: z.string().optional(),
  mode: z.string().optional(),
});

export type SlackFile = z.infer<typeof slackFileSchema>;

/** The files of a message that parse as files; anything else in `files[]` is dropped. */
export function slackFilesOf(files: unknown): SlackFile[] {
  if (!Array.isArray(files)) return [];
  return files.flatMap((file) => {
    const parsed = slackFileSchema.safeParse(file);
    return parsed.success ? [parsed.data] : [];
  });
}

/** The name a person sees for the file. */
export function fileNameOf(file: Pick<SlackFile, 'name' | 'title' | 'id'>): string {
  return file.name || file.title || file.id;
}
