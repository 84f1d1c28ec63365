// Where a file goes: DestinationRoot + the directory mode's folders + the file-name template:
// port of storage/paths.py (the parts the preview needs; the containment check runs in the service).

import { cleanComponent, cleanValue } from "./sanitize.js";
import { chars, pyLen, zpad } from "./pystr.js";
import { parseInterval } from "./intervals.js";
import { render } from "./templates.js";

const WINDOWS_ROOT = /^(\\\\|[A-Za-z]:[\\/])/;

export function directoryParts(profile, context) {
  const mode = profile.DirectoryStructureMode;
  if (mode === "NoSubdirectory") return [];
  if (mode === "PathTemplate") return render(profile.PathTemplate, context);
  const interval = parseInterval(profile.Interval);
  const moment = context.bucketTime();
  if (mode === "Hierarchical") return interval.hierarchicalParts(moment);
  if (mode === "Flat") return [interval.flatName(moment)];
  throw new Error(`unknown DirectoryStructureMode '${mode}'`);
}

function withSuffix(name, suffix, extension) {
  if (!suffix) return name;
  suffix = cleanValue(suffix);
  const ext = extension ? `.${extension}` : "";
  if (ext && name.toLowerCase().endsWith(ext.toLowerCase())) {
    const cps = chars(name);
    const n = pyLen(ext);
    return cleanComponent(`${cps.slice(0, cps.length - n).join("")}_${suffix}${cps.slice(cps.length - n).join("")}`);
  }
  const cps = chars(name);
  const dotAt = cps.lastIndexOf(".");
  if (dotAt > 0 && cps.length - dotAt - 1 <= 8) {
    return cleanComponent(`${cps.slice(0, dotAt).join("")}_${suffix}.${cps.slice(dotAt + 1).join("")}`);
  }
  return cleanComponent(`${name}_${suffix}`);
}

export function relativeParts(profile, context, kind, fileNameSuffix = "") {
  if (kind !== "audio" && kind !== "transcript") throw new Error(`kind must be 'audio' or 'transcript', not '${kind}'`);
  const template = kind === "audio" ? profile.AudioFileTemplate : profile.TranscriptionFileTemplate;
  let nameParts = render(template, context);
  if (!nameParts.length) nameParts = ["unnamed"];
  const extension = String(context.value("FileExtension") || "");
  nameParts = [...nameParts.slice(0, -1), withSuffix(nameParts[nameParts.length - 1], fileNameSuffix, extension)];
  return [...directoryParts(profile, context), ...nameParts];
}

/** str(PurePosixPath(root).joinpath(*parts)). */
function posixJoin(root, parts) {
  let prefix = "";
  if (root.startsWith("//") && !root.startsWith("///")) prefix = "//";
  else if (root.startsWith("/")) prefix = "/";
  const all = root.split("/").filter((p) => p !== "" && p !== ".").concat(parts);
  const text = prefix + all.join("/");
  return text || ".";
}

/** str(PureWindowsPath(root).joinpath(*parts)) for drive, UNC and relative roots. */
function windowsJoin(root, parts) {
  const path = root.replaceAll("/", "\\");
  let drive = "";
  let rest = path;
  const unc = /^\\\\([^\\]+)\\([^\\]+)/.exec(path);
  if (unc) {
    drive = `\\\\${unc[1]}\\${unc[2]}`;
    rest = path.slice(unc[0].length);
  } else if (/^[A-Za-z]:/.test(path)) {
    drive = path.slice(0, 2);
    rest = path.slice(2);
  }
  const rootSep = drive.startsWith("\\\\") || rest.startsWith("\\") ? "\\" : "";
  const all = rest.split("\\").filter((p) => p !== "" && p !== ".").concat(parts);
  const text = drive + rootSep + all.join("\\");
  return text || ".";
}

/** The target path as an administrator sees it (storage.paths.display_path). */
export function displayPath(profile, context, kind, fileNameSuffix = "") {
  const parts = relativeParts(profile, context, kind, fileNameSuffix);
  const root = profile.DestinationRoot;
  if (WINDOWS_ROOT.test(root) || (root.includes("\\") && !root.includes("/"))) return windowsJoin(root, parts);
  return posixJoin(root.replaceAll("\\", "/"), parts);
}

export function segmentSuffix(participantName, segmentType, ordinal) {
  return `${zpad(ordinal, 3)}_${participantName}_${segmentType}`;
}
