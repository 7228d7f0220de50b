import { absoluteUrl } from "../api/client";
import type { UploadForm } from "./types";

/**
 * Send a file to a presigned upload: S3's POST form (fields, then the file) or a
 * PUT with headers (the app's local storage). XMLHttpRequest, because fetch
 * cannot report upload progress.
 */
export function sendUpload(
  upload: UploadForm,
  file: File,
  origin: string,
  onProgress: (fraction: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method, absoluteUrl(upload.url, origin));
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(new Error(`The upload was refused (${xhr.status}).`));
      }
    };
    xhr.onerror = () => reject(new Error("The upload failed: the storage could not be reached."));
    if (upload.method.toUpperCase() === "POST") {
      const form = new FormData();
      for (const [name, value] of Object.entries(upload.fields ?? {})) form.append(name, String(value));
      form.append("file", file);
      xhr.send(form);
    } else {
      for (const [name, value] of Object.entries(upload.headers ?? {})) xhr.setRequestHeader(name, String(value));
      xhr.send(file);
    }
  });
}
