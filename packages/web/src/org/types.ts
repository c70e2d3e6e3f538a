/** Shapes of the organisation API replies (server: org/routes.ts). */

export interface BranchRow {
  branch_id: number;
  code: string;
  name: string;
  active: boolean;
}

export interface OfficeRow {
  office_id: number;
  branch_id: number;
  code: string;
  name: string;
  address: string;
  phone: string;
  active: boolean;
  branch_name: string;
  staff_count: number;
  in_scope: boolean;
}

export interface RoleRow {
  role_code: string;
  name_zh: string;
  name_en: string;
  org_wide: boolean;
  builtin: boolean;
  permissions: string[];
}

export interface StaffRow {
  staff_id: number;
  username: string;
  full_name: string;
  phone: string;
  role_code: string;
  home_office_id: number | null;
  active: boolean;
  locked_until: string | null;
  must_change_password: boolean;
  version: number;
  created_at: string;
  office_ids: number[];
}

export interface SettingRow {
  key: string;
  value: number | string;
  default: number | string;
  history: {
    key: string;
    effective_from: string;
    value: number | string;
    updated_by: number | null;
    updated_at: string;
  }[];
}
