import { InboxOutlined } from '@ant-design/icons';
import { Upload } from 'antd';
import type { ReactNode } from 'react';

/**
 * A drop zone for one file: the file goes to `onFile` at once (nothing is listed or uploaded by
 * antd itself), with the line that says what to do or what is happening, and a hint below it.
 */
export function FileDrop({
  accept,
  disabled,
  onFile,
  text,
  hint,
  testId,
}: {
  accept: string;
  disabled: boolean;
  onFile: (file: File) => void;
  text: ReactNode;
  hint: ReactNode;
  testId?: string;
}) {
  return (
    <Upload.Dragger
      accept={accept}
      multiple={false}
      showUploadList={false}
      disabled={disabled}
      beforeUpload={(file) => {
        onFile(file);
        return false;
      }}
      data-testid={testId}
    >
      <p className="ant-upload-drag-icon">
        <InboxOutlined />
      </p>
      <p className="ant-upload-text">{text}</p>
      <p className="ant-upload-hint">{hint}</p>
    </Upload.Dragger>
  );
}
