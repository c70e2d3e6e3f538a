import type { Bilingual } from './errors.ts';

/**
 * Messages for the validation codes the rules return, in both languages. The server and the
 * back office show the same words for the same problem.
 */
export const MESSAGES = {
  ID_CARD_LENGTH: { 'zh-CN': '身份证号码应为18位', en: 'An ID card number has 18 characters' },
  ID_CARD_CHARS: {
    'zh-CN': '身份证号码只能是17位数字加一位数字或X',
    en: 'An ID card number is 17 digits and a digit or X',
  },
  ID_CARD_REGION: {
    'zh-CN': '身份证号码的地区码不存在',
    en: 'The ID card number has an unknown region code',
  },
  ID_CARD_BIRTH_DATE: {
    'zh-CN': '身份证号码中的出生日期无效',
    en: 'The birth date in the ID card number is not valid',
  },
  ID_CARD_CHECKSUM: { 'zh-CN': '身份证号码校验位不正确', en: 'The ID card number check digit is wrong' },
  CREDIT_CODE_LENGTH: {
    'zh-CN': '统一社会信用代码应为18位',
    en: 'A unified social credit code has 18 characters',
  },
  CREDIT_CODE_CHARS: {
    'zh-CN': '统一社会信用代码含有无效字符（不使用 I、O、S、V、Z）',
    en: 'The credit code has invalid characters (I, O, S, V and Z are not used)',
  },
  CREDIT_CODE_CHECKSUM: {
    'zh-CN': '统一社会信用代码校验位不正确',
    en: 'The credit code check character is wrong',
  },
  PHONE_FORMAT: { 'zh-CN': '电话号码格式不正确', en: 'The phone number is not valid' },
  CALIBER_REQUIRED: { 'zh-CN': '水表须填写口径', en: 'A water meter needs a caliber' },
  CALIBER_UNKNOWN: { 'zh-CN': '口径不在 DN15–DN300 规格内', en: 'The caliber is not one of DN15–DN300' },
  FLOW_RATING_REQUIRED: {
    'zh-CN': '气表须填写流量规格（m³/h）',
    en: 'A gas meter needs a flow rating (m³/h)',
  },
  IC_CARD_REQUIRED: {
    'zh-CN': '{floor}层以上燃气用户须安装IC卡智能表',
    en: 'Gas customers above floor {floor} need a prepaid IC-card meter',
  },
  REQUIRED: { 'zh-CN': '必填', en: 'Required' },
  ID_REQUIRED_FOR_PERSON: { 'zh-CN': '个人用户须填写身份证号码', en: 'A person needs an ID card number' },
  CREDIT_CODE_REQUIRED: {
    'zh-CN': '单位用户须填写统一社会信用代码',
    en: 'An organisation needs a unified social credit code',
  },
  DATE_FORMAT: { 'zh-CN': '日期格式应为 YYYY-MM-DD', en: 'Dates are written YYYY-MM-DD' },
  DATE_INVALID: { 'zh-CN': '日期不存在', en: 'That date does not exist' },
  DATE_IN_FUTURE: { 'zh-CN': '日期不能晚于今天', en: 'The date cannot be in the future' },
  WRONG_PASSWORD: { 'zh-CN': '当前密码不正确', en: 'The current password is wrong' },
  PASSWORD_TOO_SHORT: {
    'zh-CN': '密码至少 {minLength} 位',
    en: 'A password has at least {minLength} characters',
  },
  METER_NUMBER_TAKEN: { 'zh-CN': '表号 {meterNo} 已被使用', en: 'Meter number {meterNo} is already in use' },
  CUSTOMER_CODE_TAKEN: {
    'zh-CN': '用户编号 {customerCode} 已被使用',
    en: 'Customer code {customerCode} is already in use',
  },
  MASTER_METER_UNKNOWN: {
    'zh-CN': '总表 {masterMeterNo} 不存在',
    en: 'There is no master meter {masterMeterNo}',
  },
  MASTER_METER_NOT_MASTER: {
    'zh-CN': '表 {masterMeterNo} 不是总表',
    en: 'Meter {masterMeterNo} is not a master meter',
  },
  USAGE_TYPE_UNKNOWN: { 'zh-CN': '用水/用气性质不存在', en: 'Unknown usage type' },
  USAGE_TYPE_UTILITY: {
    'zh-CN': '用水/用气性质与用户业务类型不符',
    en: 'The usage type belongs to another utility',
  },
  OFFICE_UNKNOWN: { 'zh-CN': '营业所不存在', en: 'Unknown business office' },
  REASON_REQUIRED: { 'zh-CN': '请填写原因', en: 'Give a reason' },
  METER_NO_CHARS: {
    'zh-CN': '表号只能包含字母、数字和连字符',
    en: 'A meter number has only letters, digits and hyphens',
  },
  CUSTOMER_CODE_CHARS: {
    'zh-CN': '用户编号只能包含字母、数字和连字符',
    en: 'A customer code has only letters, digits and hyphens',
  },
  BANK_ACCOUNT_FORMAT: { 'zh-CN': '银行账号应为8–30位数字', en: 'A bank account number is 8–30 digits' },
  REDUCTION_REQUIRED: {
    'zh-CN': '低保户须填写减免水量',
    en: 'A low-income household needs a reduction volume',
  },
  LAST_CONTACT: { 'zh-CN': '用户至少保留一个联系人', en: 'A customer keeps at least one contact' },
  ADDRESS_UNKNOWN: { 'zh-CN': '地址不存在', en: 'Unknown address' },
  SERVICE_POINT_UNKNOWN: { 'zh-CN': '接水点不存在', en: 'Unknown service point' },
  METER_ALREADY_REMOVED: { 'zh-CN': '该表已拆除', en: 'This meter has already been removed' },
  MASTER_HAS_SUB_METERS: {
    'zh-CN': '该总表下还有分表，不能改为其他类型',
    en: 'This master meter still has sub-meters',
  },
  BLACKLIST_ALREADY_LIFTED: {
    'zh-CN': '该黑名单记录已解除',
    en: 'This blacklist entry has already been lifted',
  },
  DOC_TYPE_UNKNOWN: { 'zh-CN': '资料类型不存在', en: 'Unknown document type' },
  FILE_TYPE_NOT_ALLOWED: {
    'zh-CN': '不支持 {ext} 文件，请上传 PDF、图片、Word 或 Excel',
    en: '{ext} files are not accepted; upload a PDF, an image, Word or Excel',
  },
  FILE_EMPTY: { 'zh-CN': '文件为空', en: 'The file is empty' },
  DATE_ORDER: { 'zh-CN': '结束日期不能早于开始日期', en: 'The end date cannot be before the start date' },
  CODE_CHARS: {
    'zh-CN': '编码只能包含字母、数字、下划线和连字符',
    en: 'Codes have only letters, digits, _ and -',
  },
  BRANCH_UNKNOWN: { 'zh-CN': '分公司不存在', en: 'Unknown branch' },
  ROLE_CODE_TAKEN: { 'zh-CN': '角色编码已存在', en: 'That role code exists already' },
  CANNOT_DROP_OWN_ROLE_ADMIN: {
    'zh-CN': '不能取消自己角色的角色管理权限',
    en: 'You cannot remove role administration from your own role',
  },
  HOME_OFFICE_NOT_ASSIGNED: {
    'zh-CN': '所属营业所须在管辖营业所之中',
    en: 'The home office must be one of the assigned offices',
  },
  USERNAME_CHARS: {
    'zh-CN': '用户名只能包含小写字母、数字和 _ . -',
    en: 'Usernames have only lower-case letters, digits and _ . -',
  },
  CANNOT_DEACTIVATE_SELF: { 'zh-CN': '不能停用自己的账号', en: 'You cannot deactivate your own account' },
  SETTING_TYPE: { 'zh-CN': '参数值类型不正确', en: 'Wrong type of value for this setting' },
  DECIMAL_FORMAT: {
    'zh-CN': '应为不超过 {integerDigits} 位整数、{fractionDigits} 位小数的非负数',
    en: 'A non-negative number with at most {integerDigits} digits and {fractionDigits} decimals',
  },
  MASTER_CANNOT_HAVE_MASTER: {
    'zh-CN': '总表不能挂在另一块总表下',
    en: 'A master meter cannot sit behind another master meter',
  },
  TIME_OF_DAY: {
    'zh-CN': '时间格式应为 HH:MM，例如 08:30',
    en: 'A time of day is written HH:MM, e.g. 08:30',
  },
  NOT_A_READING_MONTH: {
    'zh-CN': '该册本（{zone}区）本月不抄表，无需估表',
    en: 'This book (zone {zone}) is not read this month; there is nothing to estimate',
  },
  ROLE_UNKNOWN: { 'zh-CN': '角色不存在', en: 'Unknown role' },
  PERMISSION_UNKNOWN: { 'zh-CN': '权限不存在', en: 'Unknown permission' },
} satisfies Record<string, Bilingual>;

export type MessageCode = keyof typeof MESSAGES;

export function messageFor(code: string): Bilingual | undefined {
  return (MESSAGES as Record<string, Bilingual>)[code];
}
